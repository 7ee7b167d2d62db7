"""Rate limits over REST: quota headers on every answer, 429 with Retry-After when refused."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fakes import FakeOpenAI
from gateway_support import start_envoy
from openai import AsyncOpenAI, RateLimitError
from openai.types.chat import ChatCompletionMessageParam
from support import ADMIN_API_KEY, auth_headers, server_settings, start_server

pytestmark = pytest.mark.slow


@pytest.fixture
async def limited_rest(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    async with FakeOpenAI() as fake:
        running = await start_server(
            server_settings(
                tmp_path,
                local_model_enabled=False,
                providers=[
                    {
                        "name": "openai",
                        "type": "openai",
                        "base_url": f"{fake.url}/v1",
                        "api_key": "sk-test",
                    }
                ],
                rate_limit_rpm=2,
                rate_limit_tpm=5000,
            )
        )
        envoy = await start_envoy([running.address], tmp_path / "envoy.log")
        try:
            async with httpx.AsyncClient(
                base_url=envoy.rest_url, timeout=30, headers=auth_headers()
            ) as client:
                yield client
        finally:
            await envoy.stop()
            await running.server.stop(0.5)


async def test_answers_carry_the_quota_and_refusals_are_429_with_retry_after(
    limited_rest: httpx.AsyncClient,
):
    body = {"message": "Bonjour", "model": "gpt-4o-mini", "max_tokens": 50}
    first = await limited_rest.post(
        "/completion", json=body, headers={"origin": "http://localhost:4200"}
    )
    assert first.status_code == 200, first.text
    exposed = first.headers["access-control-expose-headers"]
    assert "x-ratelimit-remaining-requests" in exposed and "retry-after" in exposed
    assert first.headers["x-ratelimit-limit-requests"] == "2"
    assert first.headers["x-ratelimit-remaining-requests"] == "1"
    assert first.headers["x-ratelimit-reset-requests"].endswith("s")
    assert first.headers["x-ratelimit-limit-tokens"] == "5000"
    assert int(first.headers["x-ratelimit-remaining-tokens"]) < 5000

    streamed = await limited_rest.post("/completion", json={**body, "stream": True})
    assert streamed.status_code == 200
    assert streamed.headers["x-ratelimit-remaining-requests"] == "0"

    refused = await limited_rest.post("/completion", json=body)
    assert refused.status_code == 429
    assert 0 < int(refused.headers["retry-after"]) <= 60
    assert refused.headers["x-ratelimit-remaining-requests"] == "0"
    error = refused.json()
    assert error["code"] == 8 and "2 per minute" in error["message"]
    kinds = {detail["@type"].rsplit("/", 1)[1] for detail in error["details"]}
    assert {"google.rpc.ErrorInfo", "google.rpc.RetryInfo", "google.rpc.QuotaFailure"} <= kinds

    refused_stream = await limited_rest.post("/completion", json={**body, "stream": True})
    assert refused_stream.status_code == 429
    assert "retry-after" in refused_stream.headers


async def test_the_openai_sdk_sees_a_rate_limit_error(limited_rest: httpx.AsyncClient):
    client = AsyncOpenAI(
        base_url=f"{str(limited_rest.base_url).rstrip('/')}/v1", api_key=ADMIN_API_KEY,
        max_retries=0,
    )
    messages: list[ChatCompletionMessageParam] = [{"role": "user", "content": "Bonjour"}]
    try:
        for _ in range(2):
            reply = await client.chat.completions.with_raw_response.create(
                model="gpt-4o-mini", messages=messages, max_tokens=20
            )
            assert reply.headers["x-ratelimit-limit-requests"] == "2"
        with pytest.raises(RateLimitError) as caught:
            await client.chat.completions.create(model="gpt-4o-mini", messages=messages)
    finally:
        await client.close()
    assert caught.value.status_code == 429
    assert 0 < int(caught.value.response.headers["retry-after"]) <= 60
