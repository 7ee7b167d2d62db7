"""The REST face's limits, through the real Envoy: every refusal is a clear JSON error.

Oversized headers are 431 (never 429, which clients retry), a 100 KB model name is the
caller's 400 (not 502), JSON nested 60 deep is 400 (not 500), and requests beyond the
concurrency limit are 503 with Retry-After, whether Envoy's circuit breaker or the gRPC
server refuses them.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import httpx
import pytest
from fakes import FakeOpenAI
from fakes.http_server import Fault
from gateway_support import start_envoy
from routeur.v1 import completion_service_pb2 as pb
from routeur.v1 import completion_service_pb2_grpc as pb_grpc
from support import RunningServer, auth_headers, open_channel, server_settings, start_server

from routeur_grpc.gateway import EnvoyProcess

pytestmark = pytest.mark.slow

INTERNAL_WORDS = ("x-envoy", "x-forwarded", ":path", "grpc-", "Traceback", "<class")
LIMIT = 2


def assert_plain_json_error(response: httpx.Response, status: int) -> dict[str, object]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) >= {"code", "message"}
    assert not any(word in response.text for word in INTERNAL_WORDS), response.text
    return body


@pytest.mark.parametrize("kilobytes", [40, 60, 100])
async def test_oversized_headers_are_431_with_a_plain_message(
    rest: httpx.AsyncClient, kilobytes: int
) -> None:
    headers = {**auth_headers(), "x-long-token": "t" * kilobytes * 1024}
    response = await rest.get("/models", headers=headers)
    body = assert_plain_json_error(response, 431)
    assert "headers" in str(body["message"])


async def test_a_10_kb_id_in_a_path_is_answered_as_not_found(rest: httpx.AsyncClient) -> None:
    response = await rest.get(f"/api/conversations/{'a' * 10_240}", headers=auth_headers())
    assert_plain_json_error(response, 404)


async def test_a_100_kb_model_name_is_the_callers_400(rest: httpx.AsyncClient) -> None:
    response = await rest.post(
        "/completion", json={"message": "Bonjour", "model": "m" * 100_000}, headers=auth_headers()
    )
    body = assert_plain_json_error(response, 400)
    assert "(100000 characters)" in str(body["message"])
    assert len(response.content) < 4_000


async def test_json_nested_60_deep_is_400(rest: httpx.AsyncClient) -> None:
    content = "[" * 60 + '"deep"' + "]" * 60
    body = f'{{"model": "gpt-4o", "messages": [{{"role": "user", "content": {content}}}]}}'
    response = await rest.post(
        "/v1/chat/completions",
        content=body,
        headers={**auth_headers(), "content-type": "application/json"},
    )
    assert_plain_json_error(response, 400)


@pytest.fixture(scope="module")
async def hanging_openai() -> AsyncIterator[FakeOpenAI]:
    fake = FakeOpenAI()
    await fake.start()
    fake.always(Fault("hang"))
    yield fake
    fake.always(None)
    await fake.stop()


@pytest.fixture(scope="module")
async def small(
    tmp_path_factory: pytest.TempPathFactory, hanging_openai: FakeOpenAI
) -> AsyncIterator[tuple[RunningServer, EnvoyProcess]]:
    """A server and its Envoy admitting `LIMIT` calls; the only provider never answers."""
    data: Path = tmp_path_factory.mktemp("small")
    running = await start_server(server_settings(
        data,
        local_model_enabled=False,
        max_concurrent_calls=LIMIT,
        providers=[{"name": "openai", "type": "openai", "base_url": f"{hanging_openai.url}/v1",
                    "api_key": "sk-test"}],
    ))
    envoy = await start_envoy([running.address], data / "envoy.log", max_concurrent_requests=LIMIT)
    yield running, envoy
    await envoy.stop()
    await running.server.stop(0)


async def test_beyond_envoys_limit_rest_gets_503_with_retry_after(
    small, hanging_openai: FakeOpenAI
) -> None:
    _, envoy = small
    before = len(hanging_openai.requests)
    async with httpx.AsyncClient(base_url=envoy.rest_url, timeout=30.0) as client:
        hanging = [
            asyncio.create_task(client.post(
                "/completion", json={"message": "Bonjour", "model": "gpt-4o"},
                headers=auth_headers(),
            ))
            for _ in range(LIMIT)
        ]
        await hanging_openai.wait_requests(before + LIMIT, timeout=10.0)
        response = await client.get("/models", headers=auth_headers())
        body = assert_plain_json_error(response, 503)
        assert response.headers["retry-after"] == "1"
        assert "capacity" in str(body["message"])
        for task in hanging:
            task.cancel()
        await asyncio.gather(*hanging, return_exceptions=True)


async def hold_every_slot(
    stub: pb_grpc.CompletionServiceStub, upstream: FakeOpenAI
) -> list[grpc.aio.UnaryStreamCall]:
    """`LIMIT` streams admitted and hanging upstream.

    Slots held by an earlier test are released when the server has finished cancelling
    its calls, which takes a moment under load: streams refused meanwhile are retried.
    """
    for _ in range(50):
        before = len(upstream.requests)
        calls = [
            stub.StreamCompletion(pb.StreamCompletionRequest(message="Hi", model="gpt-4o"))
            for _ in range(LIMIT)
        ]
        try:
            await upstream.wait_requests(before + LIMIT, timeout=2.0)
            return calls
        except TimeoutError:
            for call in calls:
                call.cancel()
            await asyncio.sleep(0.2)
    raise AssertionError("the server never admitted the streams")


async def test_when_the_grpc_server_is_full_rest_gets_503_with_retry_after(
    small, hanging_openai: FakeOpenAI
) -> None:
    running, envoy = small
    async with open_channel(running.address) as channel:
        stub = pb_grpc.CompletionServiceStub(channel)
        calls = await hold_every_slot(stub, hanging_openai)
        async with httpx.AsyncClient(base_url=envoy.rest_url, timeout=30.0) as client:
            response = await client.get("/models", headers=auth_headers())
        body = assert_plain_json_error(response, 503)
        assert response.headers["retry-after"] == "1"
        assert body["code"] == grpc.StatusCode.UNAVAILABLE.value[0]
        for call in calls:
            call.cancel()
