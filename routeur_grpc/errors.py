"""Routeur's one error hierarchy.

Every error the domain raises on purpose is a `RouteurError`. Each class carries the gRPC
status code it maps to, an UPPER_SNAKE `reason` for `google.rpc.ErrorInfo` (AIP-193), and
whether the failure is worth retrying. The error interceptor turns them into a status with
details; anything that is not a `RouteurError` becomes INTERNAL with no detail sent out.

Messages are written for the person who made the call: say what was wrong and what to do.
They must never contain a secret, a stack trace or an internal path.
"""

from __future__ import annotations

from collections.abc import Mapping

import grpc

ERROR_DOMAIN = "routeur"


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
        super().__init__(message)
        self.message = message
        if reason is not None:
            self.reason = reason
        self.metadata: dict[str, str] = dict(metadata or {})
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
