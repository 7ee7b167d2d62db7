"""Forged, stale or misdirected tokens are refused with UNAUTHENTICATED.

The session server signs HS256 tokens with the secret it generated into its data directory;
the tests read that secret to forge tokens that are genuine in every way but one.
"""

from __future__ import annotations

import base64
import json
import time
import uuid

import grpc
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from routeur.v1 import (
    auth_service_pb2,
    auth_service_pb2_grpc,
    model_service_pb2,
    model_service_pb2_grpc,
    user_service_pb2,
    user_service_pb2_grpc,
)
from support import RunningServer, create_user, error_info, open_channel

from routeur_grpc.services.tokens import TokenCodec, TokenKeys


@pytest.fixture(scope="module")
def secret(routeur: RunningServer) -> str:
    return (routeur.data_dir / "jwt.secret").read_text().strip()


@pytest.fixture(scope="module")
async def admin_id(routeur: RunningServer) -> str:
    from support import user_id_of

    return await user_id_of(routeur.address)


def claims(subject: str, /, **changes: object) -> dict[str, object]:
    """Genuine claims for `subject`; a change to None removes the claim."""
    now = int(time.time())
    values: dict[str, object] = {
        "sub": subject, "roles": ["admin", "user"], "type": "access", "iat": now,
        "exp": now + 600, "iss": "routeur", "aud": "routeur", "jti": uuid.uuid4().hex,
    }
    values.update(changes)
    return {key: value for key, value in values.items() if value is not None}


async def list_models_with(routeur: RunningServer, token: str) -> grpc.aio.AioRpcError | None:
    async with open_channel(routeur.address, token) as channel:
        try:
            await model_service_pb2_grpc.ModelServiceStub(channel).ListModels(
                model_service_pb2.ListModelsRequest()
            )
        except grpc.aio.AioRpcError as error:
            return error
    return None


async def assert_refused(routeur: RunningServer, token: str, reason: str = "TOKEN_INVALID"):
    error = await list_models_with(routeur, token)
    assert error is not None, "the token was accepted"
    assert error.code() == grpc.StatusCode.UNAUTHENTICATED
    assert error_info(error).reason == reason
    return error


async def test_a_genuine_token_is_accepted(routeur, secret, admin_id):
    assert await list_models_with(routeur, jwt.encode(claims(admin_id), secret, "HS256")) is None


def unsigned(payload: dict[str, object], header: dict[str, object]) -> str:
    def part(value: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part(header)}.{part(payload)}."


async def test_alg_none_is_refused(routeur, admin_id):
    await assert_refused(routeur, unsigned(claims(admin_id), {"alg": "none", "typ": "JWT"}))


async def test_hs512_is_refused_where_hs256_is_expected(routeur, secret, admin_id):
    error = await assert_refused(routeur, jwt.encode(claims(admin_id), secret, "HS512"))
    assert "HS256" in error.details()


async def test_a_wrong_signature_is_refused(routeur, admin_id):
    forged = jwt.encode(claims(admin_id), "another secret of thirty-two bytes!!", "HS256")
    await assert_refused(routeur, forged)


async def test_a_tampered_payload_is_refused(routeur, secret, admin_id):
    header, _, signature = jwt.encode(claims("someone-else"), secret, "HS256").split(".")
    payload = unsigned(claims(admin_id), {}).split(".")[1]
    await assert_refused(routeur, f"{header}.{payload}.{signature}")


async def test_an_expired_token_is_refused(routeur, secret, admin_id):
    stale = claims(admin_id, iat=int(time.time()) - 7200, exp=int(time.time()) - 3600)
    await assert_refused(routeur, jwt.encode(stale, secret, "HS256"), "TOKEN_EXPIRED")


async def test_a_token_issued_in_the_future_is_refused(routeur, secret, admin_id):
    later = int(time.time()) + 3600
    await assert_refused(routeur, jwt.encode(claims(admin_id, iat=later, exp=later + 600),
                                             secret, "HS256"))


@pytest.mark.parametrize("field, value", [("aud", "another-service"), ("iss", "someone-else")])
async def test_a_token_for_another_audience_or_from_another_issuer_is_refused(
    routeur, secret, admin_id, field, value
):
    await assert_refused(routeur, jwt.encode(claims(admin_id, **{field: value}), secret, "HS256"))


@pytest.mark.parametrize("missing", ["exp", "iat", "sub", "aud", "iss"])
async def test_a_token_missing_a_required_claim_is_refused(routeur, secret, admin_id, missing):
    error = await assert_refused(
        routeur, jwt.encode(claims(admin_id, **{missing: None}), secret, "HS256")
    )
    assert f"`{missing}`" in error.details()


async def test_a_token_of_a_user_that_does_not_exist_is_refused(routeur, secret):
    token = jwt.encode(claims("01JZZZZZZZZZZZZZZZZZZZZZZZ"), secret, "HS256")
    await assert_refused(routeur, token, "UNKNOWN_USER")


async def issue_token(routeur: RunningServer, api_key: str) -> str:
    async with open_channel(routeur.address, None) as channel:
        response = await auth_service_pb2_grpc.AuthServiceStub(channel).IssueToken(
            auth_service_pb2.IssueTokenRequest(api_key=api_key)
        )
    return response.access_token


async def test_a_disabled_users_key_and_tokens_stop_working_at_once(routeur):
    user = await create_user(routeur.address)
    token = await issue_token(routeur, user.api_key)
    assert await list_models_with(routeur, token) is None
    async with open_channel(routeur.address) as channel:
        await user_service_pb2_grpc.UserServiceStub(channel).UpdateUser(
            user_service_pb2.UpdateUserRequest(
                user=user_service_pb2.User(user_id=user.user_id, disabled=True),
                update_mask={"paths": ["disabled"]},
            )
        )
    await assert_refused(routeur, token, "ACCOUNT_DISABLED")
    await assert_refused(routeur, user.api_key, "ACCOUNT_DISABLED")


async def test_a_revoked_key_and_the_tokens_it_got_stop_working_at_once(routeur):
    user = await create_user(routeur.address)
    token = await issue_token(routeur, user.api_key)
    async with open_channel(routeur.address, user.api_key) as channel:
        await user_service_pb2_grpc.UserServiceStub(channel).RevokeApiKey(
            user_service_pb2.RevokeApiKeyRequest(user_id="me", key_id=user.key_id)
        )
    await assert_refused(routeur, user.api_key, "API_KEY_REVOKED")
    await assert_refused(routeur, token, "API_KEY_REVOKED")


def test_a_public_key_used_as_an_hmac_secret_is_refused():
    """With RS256 configured, an HS256 token signed with the PEM public key is refused."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    codec = TokenCodec(
        TokenKeys("RS256", private, private.public_key()),
        issuer="routeur", audience="routeur", default_ttl_s=600, max_ttl_s=600,
    )
    genuine = codec.issue("user-1", ("user",)).token
    assert codec.decode(genuine).sub == "user-1"
    # pyjwt itself refuses to sign with a PEM key as HMAC secret: build the token by hand.
    import hashlib
    import hmac

    head_and_payload = unsigned(claims("user-1"), {"alg": "HS256", "typ": "JWT"})[:-1]
    signature = hmac.new(public_pem, head_and_payload.encode(), hashlib.sha256).digest()
    forged = head_and_payload + "." + base64.urlsafe_b64encode(signature).rstrip(b"=").decode()
    from routeur_grpc.errors import Unauthenticated

    with pytest.raises(Unauthenticated):
        codec.decode(forged)
