"""PyMongo's exceptions turned into Routeur's, through one table keyed by exception class.

The table is looked up along the exception's class hierarchy (most specific first), so
`ServerSelectionTimeoutError` finds its own entry before `ConnectionFailure`'s. Message text
is never inspected. Nothing from `pymongo` or `bson` escapes this package.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from bson.errors import BSONError, InvalidDocument, InvalidStringData
from pymongo.errors import (
    ConfigurationError,
    ConnectionFailure,
    DocumentTooLarge,
    DuplicateKeyError,
    ExecutionTimeout,
    InvalidName,
    InvalidOperation,
    OperationFailure,
    PyMongoError,
    ServerSelectionTimeoutError,
    WTimeoutError,
)

from routeur_grpc.errors import (
    AlreadyExists,
    Internal,
    InvalidArgument,
    RouteurError,
    Unavailable,
)

_CONFLICT = "conflict"  # stands for the caller's message about a uniqueness conflict
_RETRY = "; retry shortly."

_ERROR_TABLE: Mapping[type[Exception], tuple[type[RouteurError], str]] = {
    DuplicateKeyError: (AlreadyExists, _CONFLICT),
    DocumentTooLarge: (InvalidArgument, "The record is too large for MongoDB (16 MiB)."),
    InvalidStringData: (InvalidArgument, "A text field is not valid UTF-8."),
    InvalidDocument: (InvalidArgument, "The record cannot be stored in MongoDB."),
    ServerSelectionTimeoutError: (Unavailable, "MongoDB cannot be reached" + _RETRY),
    ConnectionFailure: (Unavailable, "The connection to MongoDB failed" + _RETRY),
    ExecutionTimeout: (Unavailable, "MongoDB took too long to answer" + _RETRY),
    WTimeoutError: (Unavailable, "MongoDB did not confirm the write in time" + _RETRY),
    # A closed client raises InvalidOperation.
    InvalidOperation: (Unavailable, "The store is closed."),
    ConfigurationError: (InvalidArgument, "The MongoDB URI or its options are invalid."),
    InvalidName: (InvalidArgument, "The MongoDB database name is invalid."),
    OperationFailure: (Internal, "The store failed unexpectedly."),
    PyMongoError: (Internal, "The store failed unexpectedly."),
    BSONError: (Internal, "The store failed unexpectedly."),
}


def translate(exc: Exception, *, conflict: str) -> RouteurError:
    for cls in type(exc).__mro__:
        entry = _ERROR_TABLE.get(cls)
        if entry is not None:
            error_class, message = entry
            return error_class(conflict if message == _CONFLICT else message)
    return Internal("The store failed unexpectedly.")


@contextmanager
def mongo_errors(*, conflict: str = "This record exists already.") -> Iterator[None]:
    """Runs the block with PyMongo and BSON errors turned into `RouteurError`s."""
    try:
        yield
    except (PyMongoError, BSONError) as exc:
        raise translate(exc, conflict=conflict) from exc
