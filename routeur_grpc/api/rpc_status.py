"""Routeur errors as `google.rpc.Status` (AIP-193): code, message, ErrorInfo, RetryInfo, and
QuotaFailure for the caller's own limits (rate limits, budgets)."""

from __future__ import annotations

import math

from google.protobuf import any_pb2, duration_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2

from routeur_grpc.errors import ERROR_DOMAIN, CallerRefused, RouteurError


def to_rpc_status(error: RouteurError) -> status_pb2.Status:
    """The status a client receives for `error`, with its details."""
    details = [_packed(error_details_pb2.ErrorInfo(
        reason=error.reason, domain=ERROR_DOMAIN, metadata=error.metadata
    ))]
    if error.retry_after_s is not None:
        seconds = max(0.0, error.retry_after_s)
        delay = duration_pb2.Duration(
            seconds=math.floor(seconds), nanos=int((seconds % 1) * 1e9)
        )
        details.append(_packed(error_details_pb2.RetryInfo(retry_delay=delay)))
    if isinstance(error, CallerRefused) and "quota_subject" in error.metadata:
        violation = error_details_pb2.QuotaFailure.Violation(
            subject=error.metadata["quota_subject"], description=error.message
        )
        details.append(_packed(error_details_pb2.QuotaFailure(violations=[violation])))
    return status_pb2.Status(
        code=getattr(code_pb2, error.code.name), message=error.message, details=details
    )


def _packed(message: object) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(message)  # type: ignore[arg-type]
    return packed
