"""OpenAI's function calling, through OpenAI's SDK, Envoy, Routeur and a provider's SDK.

The caller offers its own tools; the model's calls come back as `tool_calls` (whole, or
streamed with their index), the caller sends the results as `tool` messages, and the model
answers. The upstream is a fake OpenAI server that asks for the call the test sets.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import openai
import pytest
from fakes import FakeOpenAI
from gateway_support import start_envoy
from openai_backed import MODEL, start_openai_backed_server
from support import ADMIN_API_KEY

pytestmark = pytest.mark.slow

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather in a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "days": {"type": "integer", "maximum": 7}},
            "required": ["city"],
        },
    },
}
QUESTION = {"role": "user", "content": "What is the weather in Paris?"}


@pytest.fixture(scope="module")
async def upstream() -> AsyncIterator[FakeOpenAI]:
    fake = FakeOpenAI()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture(scope="module")
async def sdk(
    upstream: FakeOpenAI, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[openai.AsyncOpenAI]:
    data_dir: Path = tmp_path_factory.mktemp("openai-tools")
    running = await start_openai_backed_server(data_dir, upstream)
    envoy = await start_envoy([running.address], data_dir / "envoy.log")
    client = openai.AsyncOpenAI(
        base_url=f"{envoy.rest_url}/v1", api_key=ADMIN_API_KEY, max_retries=0, timeout=60
    )
    try:
        yield client
    finally:
        await client.close()
        await envoy.stop()
        await running.server.stop(0.5)


@pytest.fixture
def fake(upstream: FakeOpenAI) -> FakeOpenAI:
    upstream.reset()
    upstream.tool_call = ("get_weather", {"city": "Paris"})
    return upstream


def _sent(fake: FakeOpenAI) -> dict:
    return fake.requests_to("/chat/completions")[-1].json()


async def test_the_models_call_comes_back_whole(sdk: openai.AsyncOpenAI, fake: FakeOpenAI):
    completion = await sdk.chat.completions.create(
        model=MODEL, messages=[QUESTION], tools=[WEATHER]
    )
    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls"
    (call,) = choice.message.tool_calls or []
    assert (call.id, call.type, call.function.name) == ("call_fake1", "function", "get_weather")
    assert json.loads(call.function.arguments) == {"city": "Paris"}
    assert completion.usage is not None and completion.usage.completion_tokens > 0
    sent = _sent(fake)
    assert sent["tools"] == [WEATHER], "the schema reaches the upstream as the caller wrote it"
    assert "tool_choice" not in sent


async def test_the_tools_result_is_answered(sdk: openai.AsyncOpenAI, fake: FakeOpenAI):
    fake.reply_next("It is sunny in Paris.")
    completion = await sdk.chat.completions.create(
        model=MODEL,
        tools=[WEATHER],
        messages=[
            QUESTION,
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [{
                    "id": "call_1", "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
                }],
            },
            {"role": "tool", "tool_call_id": "call_1", "content": '{"sky": "sunny"}'},
        ],
    )
    assert completion.choices[0].message.content == "It is sunny in Paris."
    assert completion.choices[0].finish_reason == "stop"
    assistant, result = _sent(fake)["messages"][-2:]
    assert assistant["tool_calls"][0]["id"] == "call_1"
    assert result == {"role": "tool", "tool_call_id": "call_1", "content": '{"sky": "sunny"}'}


async def test_a_streamed_call_comes_with_its_index(sdk: openai.AsyncOpenAI, fake: FakeOpenAI):
    stream = await sdk.chat.completions.create(
        model=MODEL, messages=[QUESTION], tools=[WEATHER], stream=True,
        tool_choice={"type": "function", "function": {"name": "get_weather"}},
    )
    calls = []
    finish = None
    async for chunk in stream:
        for choice in chunk.choices:
            calls += choice.delta.tool_calls or []
            finish = choice.finish_reason or finish
    (call,) = calls
    assert (call.index, call.id, call.function.name) == (0, "call_fake1", "get_weather")
    assert json.loads(call.function.arguments or "") == {"city": "Paris"}
    assert finish == "tool_calls"
    assert _sent(fake)["tool_choice"] == {"type": "function", "function": {"name": "get_weather"}}


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"tool_choice": "required"}, "`tool_choice` is given without `tools`"),
        ({"tools": [{**WEATHER, "function": {"name": "get weather"}}]}, "1 to 64 letters"),
        ({"tools": [WEATHER], "tool_choice": {"type": "function", "function": {"name": "x"}}},
         "not one of `tools`"),
        ({"messages": [QUESTION, {"role": "tool", "content": "sunny"}]}, "`tool_call_id`"),
    ],
)
async def test_a_tool_request_that_cannot_be_sent_is_refused_naming_why(
    sdk: openai.AsyncOpenAI, fake: FakeOpenAI, fields: dict, words: str
):
    with pytest.raises(openai.BadRequestError) as caught:
        await sdk.chat.completions.create(model=MODEL, **{"messages": [QUESTION], **fields})
    assert words in str(caught.value)
    assert fake.requests_to("/chat/completions") == []
