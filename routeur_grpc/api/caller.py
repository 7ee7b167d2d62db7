"""The domain's `Caller` for a gRPC call: who, for which request, until when."""

from __future__ import annotations

import time

import grpc

from routeur_grpc.domain.caller import Caller
from routeur_grpc.request_context import current_identity, current_request_id


def caller_of(context: grpc.aio.ServicerContext) -> Caller:
    """Who is calling (set by the authentication interceptor) and the call's deadline."""
    remaining = context.time_remaining()
    identity = current_identity()
    return Caller(
        owner_id=identity.user_id,
        request_id=current_request_id(),
        deadline=None if remaining is None else time.monotonic() + remaining,
        roles=identity.roles,
        api_key_id=identity.api_key_id,
        auth_method=identity.auth_method,
    )
