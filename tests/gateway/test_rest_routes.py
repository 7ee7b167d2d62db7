"""The REST face of the real server, through the real Envoy: the JSON keys and requests of the CAPL Routeur IA API."""

from __future__ import annotations

import httpx
import pytest
from sse import read_events
from support import LOCAL_MODEL, auth_headers

pytestmark = pytest.mark.slow

ERROR_INFO = "type.googleapis.com/google.rpc.ErrorInfo"


def assert_no_grpc_headers(response: httpx.Response) -> None:
    leaked = [name for name in response.headers if name.lower().startswith("grpc-")]
    assert not leaked, f"gRPC headers leak into a REST answer: {leaked}"


def assert_error(response: httpx.Response, status: int, code: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["code"] == code
    assert isinstance(body["message"], str) and body["message"]
    assert isinstance(body["details"], list)
    assert_no_grpc_headers(response)
    return body


async def test_health_has_the_capl_api_shape(rest: httpx.AsyncClient):
    response = await rest.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] in {"healthy", "degraded"}
    assert {"version", "title", "environment", "timestamp"} <= body.keys()
    assert body["timestamp"].endswith("Z")
    assert_no_grpc_headers(response)


async def test_models_have_the_capl_api_shape(rest: httpx.AsyncClient):
    response = await rest.get("/models")
    assert response.status_code == 200
    body = response.json()
    assert body["total"] >= 1
    local = next(model for model in body["models"] if model["name"] == LOCAL_MODEL)
    assert local["provider"] == "local"
    assert local["supports_streaming"] is True
    assert local["context_window"] > 0
    assert isinstance(local["description"], str)


async def test_one_model_by_name_with_a_slash(rest: httpx.AsyncClient):
    response = await rest.get(f"/models/{LOCAL_MODEL}")
    assert response.status_code == 200, response.text
    assert response.json()["model"]["name"] == LOCAL_MODEL


async def test_plain_completion_has_the_capl_api_shape(rest: httpx.AsyncClient):
    response = await rest.post(
        "/completion",
        json={
            "message": "Say hello.",
            "model": LOCAL_MODEL,
            "stream": False,
            "max_tokens": 8,
            "temperature": 0.7,
        },
        headers={**auth_headers(), "Content-Type": "application/json"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["response"]
    assert body["model"] == LOCAL_MODEL
    assert body["agent"] == "V2", "V2 is the default agent"
    usage = body["usage"]
    assert usage["prompt_tokens"] > 0 and usage["completion_tokens"] > 0
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert body["metadata"]["message_count"] == 1
    assert body["metadata"]["latency_s"] > 0
    assert_no_grpc_headers(response)


async def test_completion_with_history_as_the_capl_api_sends_it(rest: httpx.AsyncClient):
    response = await rest.post(
        "/completion",
        json={
            "message": "Et en Python?",
            "model": LOCAL_MODEL,
            "stream": False,
            "max_tokens": 4,
            "conversation_history": [
                {"role": "user", "content": "Comment faire une boucle en JavaScript?"},
                {"role": "assistant", "content": "for (let i = 0; i < 10; i++) {}"},
            ],
        },
    )
    assert response.status_code == 200, response.text
    assert response.json()["metadata"]["message_count"] == 3


async def test_stream_true_on_completion_answers_server_sent_events(rest: httpx.AsyncClient):
    async with rest.stream(
        "POST",
        "/completion",
        json={
            "message": "Count from one to ten.",
            "model": LOCAL_MODEL,
            "stream": True,
            "max_tokens": 16,
        },
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert_no_grpc_headers(response)
        events = await read_events(response)
    pieces, last = [event.data for event in events[:-1]], events[-1].data
    assert len(pieces) >= 2
    for piece in pieces:
        assert piece["done"] is False
        assert isinstance(piece["content"], str)
        assert piece["metadata"]["model"] == LOCAL_MODEL
    assert last["done"] is True and last["content"] == ""
    assert last["metadata"]["usage"]["output_tokens"] > 0
    assert "error" not in last
    # Flushed as produced: the events did not all come in the read that ended the stream.
    assert events[0].read_index < events[-1].read_index
    assert events[0].arrived_at <= events[-1].arrived_at


async def test_the_streaming_path_answers_server_sent_events_too(rest: httpx.AsyncClient):
    async with rest.stream(
        "POST", "/completion/stream", json={"message": "Hi", "model": LOCAL_MODEL, "max_tokens": 4}
    ) as response:
        assert response.status_code == 200
        events = await read_events(response)
    assert events[-1].data["done"] is True


async def test_stream_false_is_the_default(rest: httpx.AsyncClient):
    response = await rest.post(
        "/completion", json={"message": "Hi", "model": LOCAL_MODEL, "max_tokens": 4}
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert "response" in response.json()


async def test_an_invalid_request_is_a_400_with_error_info(rest: httpx.AsyncClient):
    response = await rest.post("/completion", json={"message": "", "model": LOCAL_MODEL})
    body = assert_error(response, 400, 3)
    assert "message" in body["message"]
    infos = [detail for detail in body["details"] if detail["@type"] == ERROR_INFO]
    assert infos and infos[0]["domain"] == "routeur"
    assert infos[0]["reason"]


async def test_an_unknown_model_is_a_400_naming_it(rest: httpx.AsyncClient):
    response = await rest.post(
        "/completion", json={"message": "Hi", "model": "no-such-model", "stream": False}
    )
    body = assert_error(response, 400, 3)
    assert "no-such-model" in body["message"]


async def test_a_streamed_request_refused_before_any_chunk_is_a_plain_error(
    rest: httpx.AsyncClient,
):
    response = await rest.post(
        "/completion", json={"message": "Hi", "model": "no-such-model", "stream": True}
    )
    assert_error(response, 400, 3)


async def test_an_unknown_path_is_a_404_in_json(rest: httpx.AsyncClient):
    assert_error(await rest.get("/no/such/route"), 404, 5)


async def test_an_unknown_query_parameter_is_a_400_in_json(rest: httpx.AsyncClient):
    body = assert_error(await rest.get("/models", params={"colour": "blue"}), 400, 3)
    assert "colour" in body["message"]


async def test_known_query_parameters_are_passed_on(rest: httpx.AsyncClient):
    response = await rest.get("/models", params={"provider": "no-such-provider"})
    assert response.status_code == 200
    assert response.json() == {"models": [], "total": 0, "next_page_token": ""}


async def test_the_callers_request_id_is_kept(rest: httpx.AsyncClient):
    response = await rest.get("/health", headers={"x-request-id": "capl-client-abc"})
    assert response.headers["x-request-id"] == "capl-client-abc"
