"""OpenAI's own Python SDK, unchanged, against Routeur through Envoy (base_url = .../v1)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import openai
import pytest
from support import ADMIN_API_KEY, LOCAL_MODEL

from routeur_grpc.gateway import EnvoyProcess

pytestmark = pytest.mark.slow

@pytest.fixture(scope="module")
def openai_gateway(gateway: EnvoyProcess) -> EnvoyProcess:
    """The session's gateway, in front of the session's server."""
    return gateway


@pytest.fixture(scope="module")
async def sdk(openai_gateway: EnvoyProcess) -> AsyncIterator[openai.AsyncOpenAI]:
    client = openai.AsyncOpenAI(
        base_url=f"{openai_gateway.rest_url}/v1",
        api_key=ADMIN_API_KEY,  # a Routeur API key, as OpenAI's SDK sends its own
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


async def test_openais_sampling_parameters_are_honoured(sdk: openai.AsyncOpenAI):
    async def ask(**parameters: object) -> str:
        completion = await sdk.chat.completions.create(
            model=LOCAL_MODEL,
            messages=[{"role": "user", "content": "Count from one to ten in words."}],
            max_tokens=30,
            temperature=1.2,
            top_p=0.9,
            seed=5,
            presence_penalty=0.5,
            frequency_penalty=0.5,
            **parameters,
        )
        return completion.choices[0].message.content or ""

    whole = await ask()
    assert await ask() == whole, "the same seed gives the same answer"
    stop = whole.split()[1]
    assert await ask(stop=stop) == whole[: whole.index(stop)]


async def test_a_misspelt_parameter_is_refused_naming_it(sdk: openai.AsyncOpenAI):
    with pytest.raises(openai.BadRequestError) as caught:
        await sdk.chat.completions.create(
            model=LOCAL_MODEL,
            messages=[{"role": "user", "content": "Say hello."}],
            extra_body={"top_pp": 0.5},
        )
    assert "top_pp" in str(caught.value)


async def test_tools_offered_to_the_embedded_model_are_refused_naming_it(
    sdk: openai.AsyncOpenAI,
):
    with pytest.raises(openai.BadRequestError) as caught:
        await sdk.chat.completions.create(
            model=LOCAL_MODEL,
            messages=[{"role": "user", "content": "What time is it?"}],
            tools=[{"type": "function", "function": {"name": "clock"}}],
        )
    assert f"`tools` is not supported by {LOCAL_MODEL}" in str(caught.value)


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
