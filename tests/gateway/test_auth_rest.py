"""Authentication over REST, and the attacks a web page could try on a local Routeur.

A page on any site can make the browser send "simple" requests (text/plain, form-encoded
or multipart POSTs, no preflight) to 127.0.0.1, or re-point its own host name at this
address (DNS rebinding). Each attack is reproduced here and refused.
"""

from __future__ import annotations

import httpx
import openai
import pytest
from support import ADMIN_API_KEY, LOCAL_MODEL, auth_headers

from routeur_grpc.gateway import EnvoyProcess

pytestmark = pytest.mark.slow

EVIL_ORIGIN = "http://evil.example"


@pytest.fixture
async def anonymous(gateway: EnvoyProcess):
    """A client that sends no credential, as a web page's cross-site request does."""
    async with httpx.AsyncClient(base_url=gateway.rest_url, timeout=60) as client:
        yield client


async def test_no_credential_is_a_401_in_json_with_www_authenticate(anonymous):
    response = await anonymous.get("/models")
    assert response.status_code == 401
    body = response.json()
    assert body["code"] == 16 and "Authorization: Bearer" in body["message"]
    assert body["details"][0]["reason"] == "CREDENTIAL_MISSING"
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_health_needs_no_credential(anonymous):
    assert (await anonymous.get("/health")).status_code == 200


async def test_key_to_token_to_call_then_verify(anonymous):
    issued = await anonymous.post("/auth/token", json={"api_key": ADMIN_API_KEY})
    assert issued.status_code == 200, issued.text
    token = issued.json()["access_token"]
    assert issued.json()["token_type"] == "bearer"
    bearer = {"Authorization": f"Bearer {token}"}
    assert (await anonymous.get("/models", headers=bearer)).status_code == 200
    verified = await anonymous.get("/auth/verify", headers=bearer)
    assert verified.status_code == 200
    body = verified.json()
    assert body["valid"] is True
    assert {"sub", "type", "exp"} <= set(body["user"]) and body["user"]["type"] == "access"
    assert body["user"]["exp"] > 0
    assert "admin" in body["user"]["roles"]


async def test_a_wrong_key_to_the_token_endpoint_is_a_401(anonymous):
    response = await anonymous.post("/auth/token", json={"api_key": "rk_nothing_here"})
    assert response.status_code == 401
    assert response.json()["code"] == 16


async def test_the_openai_sdk_with_a_wrong_key_gets_an_authentication_error(gateway):
    client = openai.AsyncOpenAI(
        base_url=f"{gateway.rest_url}/v1", api_key="rk_wrong_key", max_retries=0
    )
    with pytest.raises(openai.AuthenticationError):
        await client.models.list()
    await client.close()


async def test_the_openai_sdk_with_a_routeur_key_lists_models(gateway):
    client = openai.AsyncOpenAI(
        base_url=f"{gateway.rest_url}/v1", api_key=ADMIN_API_KEY, max_retries=0
    )
    models = await client.models.list()
    await client.close()
    assert LOCAL_MODEL in {model.id for model in models.data}


@pytest.mark.parametrize(
    "content_type, body",
    [
        ("text/plain", '{"message": "spend the operator\'s key", "model": "local/smollm2-135m-instruct"}'),
        ("application/x-www-form-urlencoded", "message=spend&model=local%2Fsmollm2-135m-instruct"),
        ("multipart/form-data; boundary=x", "--x\r\nContent-Disposition: form-data; name=message\r\n\r\nhi\r\n--x--\r\n"),
    ],
)
async def test_a_cross_site_simple_post_is_refused_with_415(rest, content_type, body):
    # Even with a credential: the check does not depend on who calls.
    response = await rest.post(
        "/completion", content=body,
        headers={"content-type": content_type, "origin": EVIL_ORIGIN},
    )
    assert response.status_code == 415
    assert response.json()["code"] == 3
    assert "application/json" in response.json()["message"]
    assert "access-control-allow-origin" not in response.headers


async def test_a_json_post_with_charset_is_accepted(rest):
    response = await rest.post(
        "/api/conversations", content='{"title": "ok"}',
        headers={"content-type": "application/json; charset=utf-8"},
    )
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("host", ["evil.example", "rebound.attacker.test:8080", "10.1.2.3"])
async def test_a_foreign_host_header_is_refused_with_403(rest, host):
    response = await rest.get("/models", headers={"host": host})
    assert response.status_code == 403
    assert "ROUTEUR_ALLOWED_HOSTS" in response.json()["message"]


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "LOCALHOST:1234"])
async def test_local_host_names_are_served(rest, host):
    assert (await rest.get("/models", headers={"host": host})).status_code == 200


async def test_a_preflight_from_a_refused_origin_gets_a_clear_403(anonymous):
    response = await anonymous.options(
        "/completion",
        headers={"origin": EVIL_ORIGIN, "access-control-request-method": "POST",
                 "access-control-request-headers": "authorization, content-type"},
    )
    assert response.status_code == 403
    assert "ROUTEUR_CORS_ORIGINS" in response.json()["message"]
    assert "access-control-allow-origin" not in response.headers


@pytest.mark.parametrize("origin", ["http://localhost:4200", "http://127.0.0.1:4200"])
async def test_a_preflight_from_a_configured_origin_may_carry_credentials(anonymous, origin):
    response = await anonymous.options(
        "/completion",
        headers={"origin": origin, "access-control-request-method": "POST",
                 "access-control-request-headers": "authorization, content-type"},
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == origin
    assert response.headers["access-control-allow-credentials"] == "true"
    assert "authorization" in response.headers["access-control-allow-headers"]


async def test_a_rest_user_without_admin_role_is_a_403(gateway, routeur):
    from support import create_user

    user = await create_user(routeur.address)
    async with httpx.AsyncClient(base_url=gateway.rest_url, headers=auth_headers(user.api_key)) as c:
        response = await c.get("/api/admin/users")
        own = await c.get("/api/admin/users/me/api-keys")
    assert response.status_code == 403 and response.json()["code"] == 7
    assert own.status_code == 200 and len(own.json()["api_keys"]) == 1
