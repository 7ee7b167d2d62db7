"""Who is calling: the one place a call's credential is checked.

Placed inside the error mapping, so its refusals (UNAUTHENTICATED, PERMISSION_DENIED) get
the same status details as every other error. For each call it looks up the method's
access rule (`method_access`), authenticates the `authorization: Bearer <credential>`
metadata when the rule needs it, refuses non-admins on admin methods, and sets the
caller's identity in the request context, where `api.caller.caller_of` reads it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Protocol

import grpc

from routeur_grpc.domain.caller import (
    ANONYMOUS,
    ROLE_ADMIN,
    UNAUTHENTICATED_OPERATOR,
    Identity,
)
from routeur_grpc.errors import PermissionDenied
from routeur_grpc.interceptors.handler_wrapping import (
    Around,
    BuiltOnce,
    call_metadata,
    wrap_around,
)
from routeur_grpc.method_access import Access, access_of
from routeur_grpc.request_context import set_identity

AUTHORIZATION_METADATA_KEY = "authorization"


class CredentialChecker(Protocol):
    """Turns the `authorization` metadata of a call into an identity, or raises
    `Unauthenticated`."""

    async def authenticate(self, authorization: str | None) -> Identity: ...


class AuthenticationInterceptor(grpc.aio.ServerInterceptor):
    """Authenticates each call by its method's access rule and sets the caller identity."""

    def __init__(self, checker: CredentialChecker | None) -> None:
        """`checker=None` means authentication is disabled."""
        self._checker = checker
        self._handlers = BuiltOnce()

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler | None:
        handler = await continuation(handler_call_details)
        if handler is None:
            return None
        method = handler_call_details.method
        return self._handlers.get(
            method, handler, lambda h: wrap_around(h, self._authenticated(method))
        )

    def _authenticated(self, method: str) -> Around:
        access = access_of(method)
        checker = self._checker

        @asynccontextmanager
        async def authenticated(context: grpc.aio.ServicerContext) -> AsyncIterator[None]:
            if checker is None:
                identity = UNAUTHENTICATED_OPERATOR
            elif access is Access.PUBLIC:
                identity = ANONYMOUS
            else:
                authorization = call_metadata(context).get(AUTHORIZATION_METADATA_KEY)
                identity = await checker.authenticate(
                    authorization if isinstance(authorization, str) else None
                )
                if access is Access.ADMIN and ROLE_ADMIN not in identity.roles:
                    raise PermissionDenied(
                        f"{method} is for administrators; your account does not have the "
                        "`admin` role.",
                        metadata={"method": method},
                    )
            set_identity(identity)
            yield

        return authenticated
