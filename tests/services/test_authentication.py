"""Who may call: credentials, tokens, the first admin, and authentication switched off."""

from __future__ import annotations

import stat

import grpc
import pytest
from routeur.v1 import auth_service_pb2 as auth_pb
from routeur.v1 import auth_service_pb2_grpc as auth_grpc
from routeur.v1 import (
    health_service_pb2,
    health_service_pb2_grpc,
    model_service_pb2,
    model_service_pb2_grpc,
    provider_service_pb2,
    provider_service_pb2_grpc,
)
from support import (
    ADMIN_API_KEY,
    RunningServer,
    create_user,
    error_info,
    open_channel,
    server_settings,
    start_server,
    user_id_of,
)

from routeur_grpc.server import StartupError, build_server


async def list_models(address: str, credential: str | None, metadata=()):  # type: ignore[no-untyped-def]
    async with open_channel(address, credential) as channel:
        stub = model_service_pb2_grpc.ModelServiceStub(channel)
        return await stub.ListModels(model_service_pb2.ListModelsRequest(), metadata=metadata)


async def test_a_call_without_credential_is_unauthenticated_and_says_how_to_authenticate(routeur):
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await list_models(routeur.address, None)
    assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert "Authorization: Bearer" in caught.value.details()
    assert error_info(caught.value).reason == "CREDENTIAL_MISSING"


@pytest.mark.parametrize("value", ["Basic YWRtaW46YWRtaW4=", "Bearer", "Bearer ", "token-alone"])
async def test_a_malformed_authorization_is_unauthenticated(routeur, value):
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await list_models(routeur.address, None, metadata=(("authorization", value),))
    assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert error_info(caught.value).reason == "CREDENTIAL_MALFORMED"


async def test_an_unknown_api_key_is_unauthenticated_and_not_echoed(routeur):
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await list_models(routeur.address, "rk_deadbeef_not-a-real-key-at-all-0000000000000")
    assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert "not-a-real-key" not in caught.value.details()


async def test_health_and_reflection_need_no_credential(routeur):
    async with open_channel(routeur.address, None) as channel:
        health = await health_service_pb2_grpc.HealthServiceStub(channel).GetHealth(
            health_service_pb2.GetHealthRequest()
        )
    assert health.status == "healthy"


async def test_an_api_key_is_accepted_as_a_bearer_credential(routeur):
    response = await list_models(routeur.address, ADMIN_API_KEY)
    assert response.models


async def issue(address: str, **fields: object) -> auth_pb.IssueTokenResponse:
    async with open_channel(address, None) as channel:
        return await auth_grpc.AuthServiceStub(channel).IssueToken(auth_pb.IssueTokenRequest(**fields))


async def test_an_api_key_is_exchanged_for_a_token_that_works(routeur):
    issued = await issue(routeur.address, api_key=ADMIN_API_KEY, expires_in=120)
    assert issued.token_type == "bearer" and issued.expires_in == 120
    assert issued.access_token.count(".") == 2
    assert (await list_models(routeur.address, issued.access_token)).models


async def test_the_token_carries_the_claims_asked_for(routeur):
    import jwt

    issued = await issue(routeur.address, api_key=ADMIN_API_KEY)
    claims = jwt.decode(issued.access_token, options={"verify_signature": False})
    assert {"sub", "roles", "iat", "exp", "iss", "aud", "jti"} <= set(claims)
    assert claims["sub"] == await user_id_of(routeur.address)
    assert claims["roles"] == ["admin", "user"]


async def test_a_token_is_issued_only_against_a_credential(routeur):
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await issue(routeur.address)
    assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await issue(routeur.address, api_key="rk_0000_guess")
    assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_a_username_and_password_get_a_token(routeur):
    user = await create_user(routeur.address, password="correct horse battery")
    issued = await issue(routeur.address, username=user.username, password="correct horse battery")
    assert (await list_models(routeur.address, issued.access_token)).models
    for wrong in ({"username": user.username, "password": "wrong password"},
                  {"username": "nobody-at-all", "password": "correct horse battery"}):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await issue(routeur.address, **wrong)
        assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
        assert caught.value.details() == "Wrong username or password."


async def test_verify_token_tells_whose_a_token_is(routeur):
    user = await create_user(routeur.address)
    issued = await issue(routeur.address, api_key=user.api_key)
    async with open_channel(routeur.address) as channel:
        stub = auth_grpc.AuthServiceStub(channel)
        answer = await stub.VerifyToken(auth_pb.VerifyTokenRequest(token=issued.access_token))
        bogus = await stub.VerifyToken(auth_pb.VerifyTokenRequest(token="a.b.c"))
        own = await stub.VerifyToken(auth_pb.VerifyTokenRequest())
    assert answer.valid and answer.user.sub == user.user_id and answer.user.type == "access"
    assert answer.user.exp > 0 and list(answer.user.roles) == ["user"] and answer.user.role == "user"
    assert not bogus.valid
    assert own.valid and own.user.type == "api_key" and "admin" in own.user.roles


async def test_a_user_calling_an_admin_method_is_permission_denied(routeur):
    user = await create_user(routeur.address)
    async with open_channel(routeur.address, user.api_key) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await provider_service_pb2_grpc.ProviderServiceStub(channel).ListProviders(
                provider_service_pb2.ListProvidersRequest()
            )
    assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "admin" in caught.value.details()


async def test_first_start_creates_an_admin_whose_key_is_written_for_the_cli(tmp_path):
    settings = server_settings(tmp_path, bootstrap_admin_key=None, local_model_enabled=False)
    running = await start_server(settings)
    try:
        key_file = tmp_path / "admin.key"
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        key = key_file.read_text().strip()
        assert key.startswith("rk_") and len(key) > 40
        assert (await list_models(running.address, key)).models is not None
        assert stat.S_IMODE((tmp_path / "jwt.secret").stat().st_mode) == 0o600
    finally:
        await running.server.stop(0)
    # A second start on the same store keeps the admin and the file.
    again = await start_server(settings)
    try:
        assert (tmp_path / "admin.key").read_text().strip() == key
        assert (await list_models(again.address, key)).models is not None
    finally:
        await again.server.stop(0)


async def test_the_cli_uses_the_admin_key_file(tmp_path):
    import asyncio
    import os
    import sys

    settings = server_settings(tmp_path, bootstrap_admin_key=None, local_model_enabled=False)
    running = await start_server(settings)
    try:
        env = {**os.environ, "ROUTEUR_DATA_DIR": str(tmp_path)}
        env.pop("ROUTEUR_API_KEY", None)
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "routeur_grpc", "models", "--address", running.address,
            env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )
        _, err = await asyncio.wait_for(process.communicate(), timeout=60)
    finally:
        await running.server.stop(0)
    assert process.returncode == 0, err.decode()


async def test_with_authentication_disabled_every_caller_is_the_anonymous_admin(tmp_path):
    running = await start_server(
        server_settings(tmp_path, auth="disabled", local_model_enabled=False)
    )
    try:
        assert (await list_models(running.address, None)).models is not None
    finally:
        await running.server.stop(0)


@pytest.mark.parametrize(
    "overrides, named",
    [
        ({"auth": "disabled"}, "ROUTEUR_AUTH"),
        ({}, "ROUTEUR_JWT_SECRET"),
        ({"jwt_secret": "short"}, "ROUTEUR_JWT_SECRET"),
        ({"jwt_secret": "your-256-bit-secret"}, "ROUTEUR_JWT_SECRET"),
        ({"jwt_algorithm": "RS256"}, "ROUTEUR_JWT_PRIVATE_KEY_FILE"),
    ],
)
async def test_production_refuses_unsafe_authentication_settings(tmp_path, overrides, named):
    settings = server_settings(
        tmp_path, environment="production", local_model_enabled=False, **overrides
    )
    with pytest.raises(StartupError) as caught:
        await build_server(settings)
    assert named in str(caught.value)


async def test_production_starts_with_a_strong_secret(tmp_path):
    settings = server_settings(
        tmp_path, environment="production", local_model_enabled=False,
        jwt_secret="k3y-" + "x9" * 20,
    )
    server, _ = await build_server(settings)
    await server.stop(0)


async def test_eddsa_tokens_work_end_to_end(tmp_path):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    key_file = tmp_path / "signing.pem"
    key_file.write_bytes(
        ed25519.Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    running: RunningServer = await start_server(
        server_settings(tmp_path, jwt_algorithm="EdDSA", jwt_private_key_file=key_file,
                        local_model_enabled=False)
    )
    try:
        issued = await issue(running.address, api_key=ADMIN_API_KEY)
        import jwt

        assert jwt.get_unverified_header(issued.access_token)["alg"] == "EdDSA"
        assert (await list_models(running.address, issued.access_token)).models is not None
    finally:
        await running.server.stop(0)


async def test_a_key_revoked_on_one_instance_stops_working_on_another(tmp_path):
    """Two instances share one store: the other one refuses the key once its cache entry
    expires (`auth_cache_ttl_s`), with no message between them."""
    import asyncio

    from routeur.v1 import user_service_pb2, user_service_pb2_grpc

    first = await start_server(server_settings(tmp_path, local_model_enabled=False))
    second = await start_server(
        server_settings(tmp_path, local_model_enabled=False, auth_cache_ttl_s=0.5)
    )
    try:
        user = await create_user(first.address)
        assert (await list_models(second.address, user.api_key)).models is not None
        async with open_channel(first.address) as channel:
            await user_service_pb2_grpc.UserServiceStub(channel).RevokeApiKey(
                user_service_pb2.RevokeApiKeyRequest(user_id=user.user_id, key_id=user.key_id)
            )
        for _ in range(100):
            try:
                await list_models(second.address, user.api_key)
            except grpc.aio.AioRpcError as error:
                assert error.code() == grpc.StatusCode.UNAUTHENTICATED
                assert error_info(error).reason == "API_KEY_REVOKED"
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError("the other instance still accepts the revoked key")
    finally:
        await second.server.stop(0)
        await first.server.stop(0)
