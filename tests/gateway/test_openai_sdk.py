"""OpenAI's own Python SDK, unchanged, against Routeur through Envoy (base_url = .../v1)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import openai
import pytest
from gateway_support import start_envoy
from routeur.v1 import openai_compat_service_pb2_grpc
from support import LOCAL_MODEL, server_settings

from routeur_grpc.api.openai_compat import OpenAICompatServicer
from routeur_grpc.gateway import EnvoyProcess
from routeur_grpc.server import SERVICES, build_server

pytestmark = pytest.mark.slow

REGISTERED = any(service.name == "OpenAICompatService" for service in SERVICES)


@pytest.fixture(scope="module")
async def openai_gateway(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[EnvoyProcess]:
    """The session's gateway once the server registers OpenAICompatService; until then a
    real server of its own with the servicer added the way server.SERVICES will add it."""
    if REGISTERED:
        yield request.getfixturevalue("gateway")
        return
    server, port = await build_server(server_settings(tmp_path_factory.mktemp("openai-data")))
    openai_compat_service_pb2_grpc.add_OpenAICompatServiceServicer_to_server(
        OpenAICompatServicer(server.app.completions, server.app.models), server.grpc_server
    )
    await server.start()
    envoy = await start_envoy(
        [f"127.0.0.1:{port}"], tmp_path_factory.mktemp("envoy-openai") / "envoy.log"
    )
    yield envoy
    await envoy.stop()
    await server.stop(grace=1.0)


@pytest.fixture(scope="module")
async def sdk(openai_gateway: EnvoyProcess) -> AsyncIterator[openai.AsyncOpenAI]:
    client = openai.AsyncOpenAI(
        base_url=f"{openai_gateway.rest_url}/v1",
        api_key="routeur-test",
        max_retries=0,
        timeout=120.0,
    )
    yield client
    await client.close()


async def test_chat_completion(sdk: openai.AsyncOpenAI):
    completion = await sdk.chat.completions.create(
        model=LOCAL_MODEL,
        messages=[
            {"role": "system", "content": "You are brief."},
            {"role": "user", "content": "Say hello."},
        ],
        max_tokens=8,
        temperature=0.2,
    )
    assert completion.object == "chat.completion"
    assert completion.id.startswith("chatcmpl-")
    assert completion.model == LOCAL_MODEL
    assert completion.created > 0
    (choice,) = completion.choices
    assert choice.index == 0
    assert choice.message.role == "assistant"
    assert choice.message.content
    assert choice.finish_reason in ("stop", "length")
    assert completion.usage is not None
    assert completion.usage.prompt_tokens > 0 and completion.usage.completion_tokens > 0
    assert completion.usage.total_tokens == (
        completion.usage.prompt_tokens + completion.usage.completion_tokens
    )


async def test_chat_completion_with_content_parts(sdk: openai.AsyncOpenAI):
    completion = await sdk.chat.completions.create(
        model=LOCAL_MODEL,
        messages=[{"role": "user", "content": [{"type": "text", "text": "Say hello."}]}],
        max_completion_tokens=4,
    )
    assert completion.choices[0].message.content


async def test_streamed_chat_completion(sdk: openai.AsyncOpenAI):
    stream = await sdk.chat.completions.create(
        model=LOCAL_MODEL,
        messages=[{"role": "user", "content": "Count to five."}],
        max_tokens=12,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = [chunk async for chunk in stream]
    assert all(chunk.object == "chat.completion.chunk" for chunk in chunks)
    assert len({chunk.id for chunk in chunks}) == 1
    *answer, usage_chunk = chunks
    assert answer[0].choices[0].delta.role == "assistant"
    text = "".join(chunk.choices[0].delta.content or "" for chunk in answer)
    assert text
    assert answer[-1].choices[0].finish_reason in ("stop", "length")
    assert all(chunk.choices[0].finish_reason is None for chunk in answer[:-1])
    assert usage_chunk.choices == []
    assert usage_chunk.usage is not None and usage_chunk.usage.completion_tokens > 0


async def test_models(sdk: openai.AsyncOpenAI):
    models = [model async for model in sdk.models.list()]
    local = next(model for model in models if model.id == LOCAL_MODEL)
    assert local.object == "model"
    assert local.owned_by == "local"


async def test_an_unknown_model_raises_the_sdks_bad_request_error(sdk: openai.AsyncOpenAI):
    with pytest.raises(openai.BadRequestError) as caught:
        await sdk.chat.completions.create(
            model="no-such-model", messages=[{"role": "user", "content": "Hi"}]
        )
    assert "no-such-model" in str(caught.value)


async def test_a_stream_refused_at_once_raises_before_any_chunk(sdk: openai.AsyncOpenAI):
    with pytest.raises(openai.BadRequestError):
        await sdk.chat.completions.create(
            model=LOCAL_MODEL, messages=[{"role": "assistant", "content": "Hi"}], stream=True
        )


async def test_the_audio_route_is_mapped_and_not_built_yet(openai_gateway: EnvoyProcess):
    import httpx

    async with httpx.AsyncClient(base_url=openai_gateway.rest_url) as client:
        response = await client.post(
            "/v1/audio/transcriptions",
            files={"file": ("a.mp3", b"ID3" + bytes(64), "audio/mpeg")},
            data={"model": "whisper-1"},
        )
    assert response.status_code == 501
    assert response.json()["code"] == 12
