"""Routeur's one error hierarchy.

Every error the domain raises on purpose is a `RouteurError`. Each class carries the gRPC
status code it maps to, an UPPER_SNAKE `reason` for `google.rpc.ErrorInfo` (AIP-193), and
whether the failure is worth retrying. The error interceptor turns them into a status with
details; anything that is not a `RouteurError` becomes INTERNAL with no detail sent out.

Messages are written for the person who made the call: say what was wrong and what to do.
They must never contain a secret, a stack trace or an internal path.

Messages and `ErrorInfo` metadata often echo what the caller sent (a model name, a role).
Both travel in the response's trailing metadata, which gRPC clients refuse beyond about
8 KB (at random between their soft and hard limits) and Envoy beyond its header limit; so
every error bounds what it echoes, here, once: a long value is cut and marked with its
length, and the whole message is capped. The caller still gets its own INVALID_ARGUMENT.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import grpc

ERROR_DOMAIN = "routeur"

# Bounds on what an error carries, in UTF-8 bytes. grpc-message percent-encodes non-ASCII
# bytes (up to 3 characters each) and grpc-status-details-bin repeats the message and the
# metadata in base64 (4/3): with these caps the worst case stays under 6 KB of trailers.
MAX_MESSAGE_BYTES = 1000
MAX_ECHOED_BYTES = 100
MAX_METADATA_ENTRIES = 8

# An unbroken run that may not fit MAX_ECHOED_BYTES; quotes are left out so they still close.
_LONG_RUN = re.compile(rf"[^\s'\"`]{{{MAX_ECHOED_BYTES // 4 + 1},}}")


def bounded(text: str, limit: int = MAX_ECHOED_BYTES) -> str:
    """`text` if it fits in `limit` UTF-8 bytes, else its start marked with its full length."""
    encoded = text.encode("utf-8", errors="replace")
    if len(encoded) <= limit:
        return text
    marker = f"… ({len(text)} characters)"
    kept = encoded[: max(0, limit - len(marker.encode()))].decode("utf-8", errors="ignore")
    return kept + marker


def bounded_message(message: str) -> str:
    """A message with every long unbroken run (an echoed value) cut, then capped as a whole."""
    message = _LONG_RUN.sub(lambda run: bounded(run.group()), message)
    return bounded(message, MAX_MESSAGE_BYTES)


def bounded_metadata(metadata: Mapping[str, str] | None) -> dict[str, str]:
    """ErrorInfo metadata with at most `MAX_METADATA_ENTRIES` entries, each value bounded."""
    items = list((metadata or {}).items())[:MAX_METADATA_ENTRIES]
    return {bounded(str(key), 64): bounded(str(value)) for key, value in items}


class RouteurError(Exception):
    """Base class: an error whose message is safe to show to the caller."""

    code: grpc.StatusCode = grpc.StatusCode.INTERNAL
    reason: str = "INTERNAL"
    retryable: bool = False

    def __init__(
        self,
        message: str,
        *,
        reason: str | None = None,
        metadata: Mapping[str, str] | None = None,
        retry_after_s: float | None = None,
    ) -> None:
        message = bounded_message(message)
        super().__init__(message)
        self.message = message
        if reason is not None:
            self.reason = reason
        self.metadata: dict[str, str] = bounded_metadata(metadata)
        self.retry_after_s = retry_after_s

    def __str__(self) -> str:
        return self.message


class InvalidArgument(RouteurError):
    """The request itself is wrong: a missing field, a value out of range, an unknown name."""

    code = grpc.StatusCode.INVALID_ARGUMENT
    reason = "INVALID_ARGUMENT"


class Unauthenticated(RouteurError):
    """No credential, or one that is invalid or expired."""

    code = grpc.StatusCode.UNAUTHENTICATED
    reason = "UNAUTHENTICATED"


class PermissionDenied(RouteurError):
    """The caller is known but may not do this."""

    code = grpc.StatusCode.PERMISSION_DENIED
    reason = "PERMISSION_DENIED"


class NotFound(RouteurError):
    """The named resource does not exist, or belongs to somebody else."""

    code = grpc.StatusCode.NOT_FOUND
    reason = "NOT_FOUND"


class AlreadyExists(RouteurError):
    """A resource with that identifier exists already."""

    code = grpc.StatusCode.ALREADY_EXISTS
    reason = "ALREADY_EXISTS"


class FailedPrecondition(RouteurError):
    """The system is not in a state where this can be done (e.g. a disabled provider)."""

    code = grpc.StatusCode.FAILED_PRECONDITION
    reason = "FAILED_PRECONDITION"


class ResourceExhausted(RouteurError):
    """A quota or rate limit was hit, here or upstream. Retry later."""

    code = grpc.StatusCode.RESOURCE_EXHAUSTED
    reason = "RESOURCE_EXHAUSTED"
    retryable = True


class CallerRefused(ResourceExhausted):
    """A limit of the caller's own (rate, tokens, budget) refuses the request.

    The caller's doing, not a deployment's: it never counts as a provider failure, never
    trips a circuit breaker and never triggers a fallback.
    """

    retryable = True


class RateLimited(CallerRefused):
    """Too many requests or tokens for the caller in the current window."""

    reason = "RATE_LIMITED"


class BudgetExceeded(CallerRefused):
    """The caller's spending budget for the period is used up."""

    reason = "BUDGET_EXCEEDED"
    retryable = False


class Unavailable(RouteurError):
    """A dependency (a provider, the store) cannot be reached right now. Retry later."""

    code = grpc.StatusCode.UNAVAILABLE
    reason = "UNAVAILABLE"
    retryable = True


class DeadlineExceeded(RouteurError):
    """The work did not finish within the caller's deadline."""

    code = grpc.StatusCode.DEADLINE_EXCEEDED
    reason = "DEADLINE_EXCEEDED"
    retryable = True


class Cancelled(RouteurError):
    """The caller went away; nothing more will be sent."""

    code = grpc.StatusCode.CANCELLED
    reason = "CANCELLED"


class NotImplementedFeature(RouteurError):
    """A contract that exists but whose feature has not been built yet."""

    code = grpc.StatusCode.UNIMPLEMENTED
    reason = "NOT_IMPLEMENTED"


class Internal(RouteurError):
    """A bug or an unexpected state. The message sent out stays generic."""

    code = grpc.StatusCode.INTERNAL
    reason = "INTERNAL"
