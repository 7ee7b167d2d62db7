"""The domain's `Caller` for a gRPC call: owner, request id and deadline."""

from __future__ import annotations

import time

import grpc

from routeur_grpc.domain.caller import Caller
from routeur_grpc.request_context import current_owner_id, current_request_id


def caller_of(context: grpc.aio.ServicerContext) -> Caller:
    """Who is calling (set by the interceptors) and the call's deadline, if any."""
    remaining = context.time_remaining()
    return Caller(
        owner_id=current_owner_id(),
        request_id=current_request_id(),
        deadline=None if remaining is None else time.monotonic() + remaining,
    )
