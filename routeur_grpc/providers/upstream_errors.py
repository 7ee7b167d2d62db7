"""What every provider module shares to turn its SDK's exceptions into Routeur errors.

Each provider module declares a small `ErrorTable`: SDK exception *types* (most specific
first) and the function building the Routeur error for each. Nothing here reads an error
message to decide anything; the HTTP status, a typed error code or the `Retry-After` header
are the only inputs.

The messages are for the end user. An upstream that rejects Routeur's own credentials is an
operator problem: it becomes FAILED_PRECONDITION ("the provider rejected Routeur's
credentials"), never UNAUTHENTICATED, which would tell the caller that *their* token is bad.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp

from routeur_grpc.errors import (
    DeadlineExceeded,
    FailedPrecondition,
    InvalidArgument,
    ResourceExhausted,
    RouteurError,
    Unavailable,
)

#: Longest upstream explanation passed on to the caller for a rejected request.
MAX_DETAIL_CHARS = 300
#: Reasons (google.rpc.ErrorInfo) specific to upstream failures.
REASON_RATE_LIMITED = "UPSTREAM_RATE_LIMITED"
REASON_UNAVAILABLE = "UPSTREAM_UNAVAILABLE"
REASON_TIMEOUT = "UPSTREAM_TIMEOUT"
REASON_CREDENTIALS = "UPSTREAM_CREDENTIALS_REJECTED"
REASON_MODEL_NOT_FOUND = "UPSTREAM_MODEL_NOT_FOUND"
REASON_BAD_REQUEST = "UPSTREAM_REJECTED_REQUEST"
REASON_CONTEXT_TOO_LONG = "CONTEXT_TOO_LONG"
REASON_MALFORMED = "UPSTREAM_MALFORMED_RESPONSE"
REASON_EMPTY = "UPSTREAM_EMPTY_RESPONSE"
REASON_INCOMPLETE = "UPSTREAM_INCOMPLETE_RESPONSE"


def retry_after_seconds(headers: Mapping[str, str] | None, now: float | None = None) -> float | None:
    """Seconds to wait according to `retry-after-ms` or `Retry-After` (seconds or HTTP date)."""
    if not headers:
        return None
    lowered = {k.lower(): v for k, v in headers.items()}
    raw_ms = lowered.get("retry-after-ms")
    if raw_ms:
        try:
            return max(0.0, float(raw_ms) / 1000)
        except ValueError:
            pass
    raw = lowered.get("retry-after")
    if not raw:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def _metadata(provider: str, status: int | None) -> dict[str, str]:
    meta = {"provider": provider}
    if status is not None:
        meta["upstream_status"] = str(status)
    return meta


def rate_limited(provider: str, headers: Mapping[str, str] | None = None) -> ResourceExhausted:
    wait = retry_after_seconds(headers)
    hint = f" Retry in {wait:g} s." if wait is not None else " Retry later."
    return ResourceExhausted(
        f"The provider '{provider}' is rate limiting requests right now.{hint}",
        reason=REASON_RATE_LIMITED,
        metadata=_metadata(provider, 429),
        retry_after_s=wait,
    )


def unavailable(provider: str, status: int | None = None, what: str = "") -> Unavailable:
    detail = f" ({what})" if what else (f" (HTTP {status})" if status else "")
    return Unavailable(
        f"The provider '{provider}' could not be reached or failed{detail}. Retry later.",
        reason=REASON_UNAVAILABLE,
        metadata=_metadata(provider, status),
    )


def malformed(provider: str, what: str = "data it could not parse") -> Unavailable:
    """The upstream answered, but with something that is not its protocol (bad JSON, a
    broken event, the wrong content type). Its fault, never the caller's; retryable like a
    5xx as long as nothing reached the client."""
    return Unavailable(
        f"The provider '{provider}' sent {what}. Retry later, or pick another model.",
        reason=REASON_MALFORMED,
        metadata=_metadata(provider, None),
    )


def empty_answer(provider: str) -> Unavailable:
    """The upstream answered without any text (`{}`, a stream of `[DONE]` only, chunks
    without choices): an upstream fault, never billed as a success."""
    return Unavailable(
        f"The provider '{provider}' sent an empty answer. Retry later, or pick another model.",
        reason=REASON_EMPTY,
        metadata=_metadata(provider, None),
    )


def cut_short(provider: str) -> Unavailable:
    """The upstream's stream ended without the end marker of its protocol."""
    return Unavailable(
        f"The provider '{provider}' ended its answer before finishing it. Retry later.",
        reason=REASON_INCOMPLETE,
        metadata=_metadata(provider, None),
    )


def timed_out(provider: str, what: str = "did not answer in time") -> DeadlineExceeded:
    return DeadlineExceeded(
        f"The provider '{provider}' {what}.",
        reason=REASON_TIMEOUT,
        metadata=_metadata(provider, None),
    )


def credentials_rejected(provider: str, status: int) -> FailedPrecondition:
    return FailedPrecondition(
        f"The provider '{provider}' rejected Routeur's credentials (HTTP {status}). "
        "This is a server configuration problem, not a problem with your request: "
        "tell the operator, or use another model.",
        reason=REASON_CREDENTIALS,
        metadata=_metadata(provider, status),
    )


def model_not_found(provider: str, model: str, status: int = 404) -> FailedPrecondition:
    return FailedPrecondition(
        f"The provider '{provider}' does not serve the model '{model}' (HTTP {status}). "
        "Check the model catalog, or pull the model if the provider is Ollama.",
        reason=REASON_MODEL_NOT_FOUND,
        metadata={**_metadata(provider, status), "model": model},
    )


def bad_request(provider: str, status: int, detail: object = None) -> InvalidArgument:
    text = _short(detail)
    suffix = f": {text}" if text else "."
    return InvalidArgument(
        f"The provider '{provider}' rejected the request (HTTP {status}){suffix}",
        reason=REASON_BAD_REQUEST,
        metadata=_metadata(provider, status),
    )


def context_too_long(provider: str, status: int = 400) -> InvalidArgument:
    return InvalidArgument(
        f"The conversation is too long for the model's context window (provider "
        f"'{provider}'). Shorten the history or the message, or pick a model with a larger "
        "context window (see ListModels).",
        reason=REASON_CONTEXT_TOO_LONG,
        metadata=_metadata(provider, status),
    )


def by_status(
    provider: str,
    model: str,
    status: int,
    headers: Mapping[str, str] | None = None,
    detail: object = None,
) -> RouteurError:
    """The Routeur error for an HTTP status from `provider` (for SDKs that only give that)."""
    if 200 <= status < 300:  # a success status whose body the SDK could not read
        return malformed(provider, f"an answer of an unexpected type (HTTP {status})")
    if status == 429:
        return rate_limited(provider, headers)
    if status in (401, 403, 407):
        return credentials_rejected(provider, status)
    if status == 404:
        return model_not_found(provider, model, status)
    if status == 413:
        return context_too_long(provider, status)
    if status in (408, 504):
        return timed_out(provider)
    if 400 <= status < 500:
        return bad_request(provider, status, detail)
    return unavailable(provider, status)


def _short(detail: object) -> str:
    if detail is None:
        return ""
    text = " ".join(str(detail).split())
    if len(text) > MAX_DETAIL_CHARS:
        text = text[: MAX_DETAIL_CHARS - 1] + "…"
    return text


def connection_failure(error: BaseException, provider: str) -> RouteurError | None:
    """What an aiohttp failure behind an SDK's exception says happened, or None.

    The OpenAI and Anthropic SDKs' aiohttp transport reports a dropped connection as a
    connect timeout; the aiohttp exception it wraps (`raise … from`, as the SDK's own
    wrapping) tells a timeout from a connection refused or lost, so a reset is never
    blamed on slowness.
    """
    cause: BaseException | None = error
    for _ in range(8):  # the SDK's error, the transport's, aiohttp's
        if cause is None:
            return None
        if isinstance(cause, aiohttp.ClientError):
            if isinstance(cause, TimeoutError):
                return timed_out(provider)
            if isinstance(cause, aiohttp.ClientConnectorError):
                return unavailable(provider, what="connection failed")
            return unavailable(provider, what="connection lost")
        cause = cause.__cause__
    return None


Builder = Callable[[Any, str, str], RouteurError]
"""Builds a Routeur error from (the SDK exception, the provider name, the model)."""


@dataclass(frozen=True, slots=True)
class ErrorTable:
    """SDK exception types, most specific first, each with how to build the Routeur error."""

    rows: Sequence[tuple[type[BaseException] | tuple[type[BaseException], ...], Builder]]

    def map(self, error: BaseException, provider: str, model: str) -> RouteurError | None:
        """The Routeur error for `error`, or None when the table does not know its type."""
        if isinstance(error, RouteurError):
            return error
        failure = connection_failure(error, provider)
        if failure is not None:
            return failure
        for types, build in self.rows:
            if isinstance(error, types):
                return build(error, provider, model)
        return None
