"""The fake OpenAI server refuses unusable bodies as OpenAI does: 400 with OpenAI's error JSON,
which OpenAI's SDK raises as `BadRequestError`."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import openai
import pytest

from fakes import FakeOpenAI


@pytest.fixture
async def fake() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI() as upstream:
        yield upstream  # type: ignore[misc]


@pytest.mark.parametrize(
    ("body", "message", "param"),
    [
        (b"{not json", "We could not parse the JSON body of your request.", None),
        (b"", "We could not parse the JSON body of your request.", None),
        (b"[1, 2]", "We could not parse the JSON body of your request.", None),
        (b'{"messages": []}', "you must provide a model parameter", None),
        (b'{"model": "gpt-4o"}', "Missing required parameter: 'messages'.", "messages"),
        (b'{"model": "gpt-4o", "messages": ["hi"]}', "Missing required parameter", "messages"),
    ],
)
async def test_an_unusable_body_gets_openais_400(fake, body, message, param):
    async with httpx.AsyncClient(base_url=fake.url) as client:
        response = await client.post(
            "/v1/chat/completions", content=body, headers={"content-type": "application/json"}
        )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["message"].startswith(message)
    assert error["type"] == "invalid_request_error"
    assert error["param"] == param


async def test_openais_sdk_reads_the_refusal(fake):
    client = openai.AsyncOpenAI(api_key="sk-test", base_url=f"{fake.url}/v1", max_retries=0)
    with pytest.raises(openai.BadRequestError) as refused:
        await client.chat.completions.create(model="gpt-4o", messages=None)  # type: ignore[arg-type]
    await client.close()
    assert refused.value.status_code == 400
    assert refused.value.param == "messages"
