"""AuthService servicer: protobuf in, token exchange, protobuf out."""

from __future__ import annotations

import grpc
from routeur.v1 import auth_service_pb2 as pb
from routeur.v1 import auth_service_pb2_grpc as pb_grpc

from routeur_grpc.api.caller import caller_of
from routeur_grpc.interceptors.authentication import AUTHORIZATION_METADATA_KEY
from routeur_grpc.services.api_keys import looks_like_jwt
from routeur_grpc.services.token_exchange import TokenExchange

TOKEN_TYPE = "bearer"


class AuthServicer(pb_grpc.AuthServiceServicer):
    def __init__(self, exchange: TokenExchange) -> None:
        self._exchange = exchange

    async def IssueToken(
        self, request: pb.IssueTokenRequest, context: grpc.aio.ServicerContext
    ) -> pb.IssueTokenResponse:
        authorization = dict(context.invocation_metadata() or ()).get(AUTHORIZATION_METADATA_KEY)
        issued = await self._exchange.issue(
            api_key=request.api_key,
            username=request.username,
            password=request.password,
            authorization=authorization if isinstance(authorization, str) else None,
            expires_in_s=request.expires_in,
        )
        return pb.IssueTokenResponse(
            access_token=issued.token, token_type=TOKEN_TYPE, expires_in=issued.expires_in
        )

    async def VerifyToken(
        self, request: pb.VerifyTokenRequest, context: grpc.aio.ServicerContext
    ) -> pb.VerifyTokenResponse:
        token = request.token
        if not token:  # the call's own credential, when it is a token: its claims say more
            authorization = dict(context.invocation_metadata() or ()).get(
                AUTHORIZATION_METADATA_KEY
            )
            if isinstance(authorization, str):
                credential = authorization.partition(" ")[2].strip()
                token = credential if looks_like_jwt(credential) else ""
        report = await self._exchange.verify(caller_of(context), token)
        if not report.valid:
            return pb.VerifyTokenResponse(valid=False)
        return pb.VerifyTokenResponse(
            valid=True,
            user=pb.TokenClaims(
                sub=report.sub,
                type=report.type,
                exp=report.exp,
                role="admin" if "admin" in report.roles else "user",
                roles=report.roles,
            ),
        )
