"""Honest answers over REST, through the real Envoy: fallbacks and cache hits say so (in the
metadata and in response headers), stream pieces carry only who answers, typos in a JSON
body are refused by name, and older clients' paths reach the same RPCs.

A server of its own routes to fake OpenAI and Mistral upstreams (no embedded model).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fakes import FakeMistral, FakeOpenAI, Fault
from gateway_support import start_envoy
from sse import read_events
from support import auth_headers, server_settings, start_server

pytestmark = pytest.mark.slow  # a real Envoy

CATALOG = """
[fallbacks]
"gpt-4o" = ["mistral-large-latest"]
"""


@dataclass
class Stack:
    rest: httpx.AsyncClient
    openai: FakeOpenAI
    mistral: FakeMistral


@pytest.fixture(scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    work: Path = tmp_path_factory.mktemp("honest")
    openai, mistral = FakeOpenAI(), FakeMistral()
    await openai.start()
    await mistral.start()
    (work / "catalog.toml").write_text(CATALOG, encoding="utf-8")
    server = await start_server(
        server_settings(
            work / "data",
            local_model_enabled=False,
            catalog_file=work / "catalog.toml",
            providers=[
                {"name": "openai", "type": "openai", "base_url": f"{openai.url}/v1",
                 "api_key": "k"},
                {"name": "mistral", "type": "mistral", "base_url": mistral.url, "api_key": "k"},
            ],
            retry_max_attempts=1,
            response_cache_ttl_s=60,
            default_model="mistral-small-latest",
        )
    )
    envoy = await start_envoy([server.address], work / "envoy.log")
    async with httpx.AsyncClient(
        base_url=envoy.rest_url, timeout=30.0, headers=auth_headers()
    ) as rest:
        yield Stack(rest, openai, mistral)
    await envoy.stop()
    await server.server.stop(0.5)
    await openai.stop()
    await mistral.stop()


@pytest.fixture(autouse=True)
def _reset(stack: Stack) -> None:
    stack.openai.reset()
    stack.mistral.reset()


async def test_a_fallback_answer_says_so_in_its_metadata_and_headers(stack: Stack) -> None:
    stack.openai.always(Fault("status", status=500))
    response = await stack.rest.post("/completion", json={"message": "Hi", "model": "gpt-4o"})
    assert response.status_code == 200, response.text
    assert response.headers["x-routeur-requested-model"] == "gpt-4o"
    assert response.headers["x-routeur-fallback-reason"] == "UPSTREAM_UNAVAILABLE"
    metadata = response.json()["metadata"]
    assert metadata["model"] == "mistral-large-latest"
    assert metadata["requested_model"] == "gpt-4o"
    assert metadata["fallback_reason"] == "UPSTREAM_UNAVAILABLE"
    assert [(a["model"], a["error_reason"]) for a in metadata["attempts"]] == [
        ("gpt-4o", "UPSTREAM_UNAVAILABLE"),
        ("mistral-large-latest", ""),
    ]


async def test_a_streamed_fallback_says_so_from_the_first_piece(stack: Stack) -> None:
    stack.openai.always(Fault("status", status=500))
    async with stack.rest.stream(
        "POST", "/completion/stream", json={"message": "Hi", "model": "gpt-4o"}
    ) as response:
        assert response.status_code == 200
        assert response.headers["x-routeur-fallback-reason"] == "UPSTREAM_UNAVAILABLE"
        events = await read_events(response)
    first = events[0].data["metadata"]
    assert first["model"] == "mistral-large-latest"
    assert first["requested_model"] == "gpt-4o"
    assert first["fallback_reason"] == "UPSTREAM_UNAVAILABLE"


async def test_stream_pieces_carry_who_answers_and_no_empty_maps(stack: Stack) -> None:
    async with stack.rest.stream(
        "POST", "/completion/stream", json={"message": "Hi", "model": "gpt-4o", "agent": ""}
    ) as response:
        events = await read_events(response)
    *pieces, last = [event.data for event in events]
    for piece in pieces:
        assert piece["metadata"] == {"model": "gpt-4o", "agent": ""}, piece
    assert last["metadata"]["agent"] == ""
    assert last["metadata"]["usage_by_model"]


async def test_no_fallback_for_an_answer_from_the_model_asked_for(stack: Stack) -> None:
    response = await stack.rest.post("/completion", json={"message": "Hi", "model": "gpt-4o"})
    assert "x-routeur-fallback-reason" not in response.headers
    assert "fallback_reason" not in response.json()["metadata"]


async def test_a_cache_hit_is_marked_with_its_own_latency_and_no_new_cost(stack: Stack) -> None:
    request = {"message": "Capital of France?", "model": "gpt-4o-mini", "temperature": 0}
    first = await stack.rest.post("/completion", json=request)
    second = await stack.rest.post("/completion", json=request)
    assert first.status_code == second.status_code == 200
    assert "x-routeur-cache" not in first.headers
    assert second.headers["x-routeur-cache"] == "hit"
    cached = second.json()
    assert cached["response"] == first.json()["response"]
    assert cached["metadata"]["cache_hit"] is True
    assert cached["metadata"]["pricing"]["total_cost"] == 0
    assert cached["usage"]["total_tokens"] == 0
    assert len(stack.openai.requests) == 1


async def test_a_misspelt_field_is_refused_naming_it(stack: Stack) -> None:
    response = await stack.rest.post(
        "/completion", json={"message": "Hi", "model": "gpt-4o", "temprature": 0.2}
    )
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["code"] == 3 and "temprature" in body["message"]
    assert stack.openai.requests == []


async def test_a_misspelt_field_of_a_streamed_request_is_refused_too(stack: Stack) -> None:
    response = await stack.rest.post(
        "/completion",
        json={"message": "Hi", "model": "gpt-4o", "stream": True, "max_token": 3},
    )
    assert response.status_code == 400 and "max_token" in response.json()["message"]


async def test_the_generative_ai_prod_chat_path(stack: Stack) -> None:
    response = await stack.rest.post("/api/chat", json={"message": "Bonjour"})
    assert response.status_code == 200, response.text
    assert response.json()["response"] == stack.mistral.reply_text
    assert response.json()["model"] == "mistral-small-latest"  # the server's default model


async def test_the_ollama_app_paths(stack: Stack) -> None:
    async with stack.rest.stream(
        "POST", "/generate", json={"prompt": "Bonjour", "model": "gpt-4o-mini"}
    ) as response:
        assert response.status_code == 200
        events = await read_events(response)
    assert "".join(e.data["content"] for e in events) == stack.openai.reply_text

    models = await stack.rest.get("/api/models")
    assert models.status_code == 200 and models.json()["models"]

    started = await stack.rest.post("/api/conversation/start", json={})
    assert started.status_code == 200, started.text
    conversation = started.json()["conversation"]["conversation_id"]
    reply = await stack.rest.post(
        f"/api/conversation/{conversation}/message",
        json={"prompt": "Bonjour", "model": "gpt-4o-mini"},
    )
    assert reply.status_code == 200, reply.text
    assert reply.json()["response"] == stack.openai.reply_text
    history = await stack.rest.get(f"/api/conversation/{conversation}")
    assert [m["role"] for m in history.json()["conversation"]["messages"]] == [
        "user",
        "assistant",
    ]


async def test_a_misspelt_openai_parameter_is_refused_naming_it(stack: Stack) -> None:
    response = await stack.rest.post(
        "/v1/chat/completions",
        json={"model": "gpt-4o", "messages": [{"role": "user", "content": "Hi"}], "temprature": 1},
    )
    assert response.status_code == 400 and "temprature" in response.json()["message"]


async def test_unknown_keys_inside_values_are_not_mistaken_for_fields(stack: Stack) -> None:
    response = await stack.rest.post(
        "/completion",
        json={
            "message": 'Explain {"temprature": 1, "stream": true}',
            "model": "gpt-4o",
            "conversation_history": [{"role": "user", "content": "earlier"}],
        },
    )
    assert response.status_code == 200, response.text


async def test_an_unconfigured_model_names_the_setting_to_add(stack: Stack) -> None:
    response = await stack.rest.post(
        "/completion", json={"message": "Hi", "model": "claude-haiku-4-5"}
    )
    assert response.status_code == 400  # FAILED_PRECONDITION
    body = response.json()
    assert body["code"] == 9 and "ROUTEUR_PROVIDERS" in body["message"]
    assert stack.mistral.requests == [] and stack.openai.requests == []
