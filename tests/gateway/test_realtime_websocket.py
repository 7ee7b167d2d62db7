"""The realtime WebSocket, `ws://host/realtime/ws`, through a real Envoy on the REST port.

A `websockets` client speaks the CAPL Routeur IA API's `{type, payload}` messages: ping,
message (a streamed reply ending with `done` and its accounting), cancel (the upstream call
stops), and the WebRTC signalling types relayed as-is between two clients of one session
id. The analysis REST mapping (`/api/analyse`) is checked here too, over the same server.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import websockets
from fakes import FakeOpenAI
from gateway_support import start_envoy
from openai_backed import MODEL, start_openai_backed_server
from support import RunningServer, auth_headers
from websockets.asyncio.client import ClientConnection, connect

from routeur_grpc.gateway import EnvoyProcess

EVENT_TIMEOUT_S = 20.0

ANALYSIS = {
    "summary": "A short note about Lyon.",
    "sentiment": "neutral",
    "language": "fr",
    "keywords": ["Lyon"],
    "entities": [{"text": "Lyon", "type": "location"}],
}


@pytest.fixture(scope="module")
async def openai_upstream() -> AsyncIterator[FakeOpenAI]:
    fake = FakeOpenAI()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
def fake_openai(openai_upstream: FakeOpenAI) -> FakeOpenAI:
    openai_upstream.reset()
    return openai_upstream


@pytest.fixture(scope="module")
async def served(
    tmp_path_factory: pytest.TempPathFactory, openai_upstream: FakeOpenAI
) -> AsyncIterator[tuple[RunningServer, EnvoyProcess]]:
    data_dir = tmp_path_factory.mktemp("realtime-ws")
    running = await start_openai_backed_server(data_dir, openai_upstream)
    envoy = await start_envoy(
        [running.address],
        data_dir / "envoy.log",
        websocket_upstreams=(f"127.0.0.1:{running.server.websocket_port}",),
    )
    yield running, envoy
    await envoy.stop()
    await running.server.stop(grace=0.5)


@pytest.fixture
def ws_url(served: tuple[RunningServer, EnvoyProcess]) -> str:
    return served[1].rest_url.replace("http://", "ws://") + "/realtime/ws"


def open_ws(url: str) -> Any:
    return connect(url, additional_headers=auth_headers(), open_timeout=EVENT_TIMEOUT_S)


async def receive(ws: ClientConnection) -> dict[str, Any]:
    return json.loads(await asyncio.wait_for(ws.recv(), EVENT_TIMEOUT_S))


async def send(ws: ClientConnection, kind: str, payload: dict[str, Any]) -> None:
    await ws.send(json.dumps({"type": kind, "payload": payload}))


async def reply(ws: ClientConnection) -> tuple[str, dict[str, Any], int]:
    """Deltas up to the `done`: the text, the done's payload, how many deltas came."""
    parts: list[str] = []
    while True:
        message = await receive(ws)
        if message["type"] == "delta":
            parts.append(message["payload"]["content"])
        elif message["type"] == "done":
            return "".join(parts), message["payload"], len(parts)
        else:
            raise AssertionError(f"unexpected during a reply: {message}")


async def test_ping_is_answered_by_pong(ws_url: str) -> None:
    async with open_ws(ws_url) as ws:
        started = await receive(ws)
        assert started["type"] == "started"
        assert started["payload"]["session_id"] and started["payload"]["conversation_id"]
        await send(ws, "ping", {})
        assert await receive(ws) == {"type": "pong", "payload": {"nonce": ""}}


async def test_a_message_streams_its_reply_with_the_completion_metadata_keys(
    ws_url: str, fake_openai: FakeOpenAI
) -> None:
    async with open_ws(ws_url) as ws:
        await receive(ws)
        await send(ws, "message", {"text": "Hello!"})
        text, done, deltas = await reply(ws)
        assert text == fake_openai.reply_text
        assert deltas > 1
        assert done["cancelled"] is False and "error" not in done
        metadata = done["metadata"]
        assert metadata["model"] == MODEL
        assert metadata["usage"]["input_tokens"] == FakeOpenAI.prompt_tokens
        assert metadata["usage_by_model"][MODEL]["total_tokens"] == (
            metadata["usage"]["total_tokens"]
        )
        assert metadata["pricing"]["currency"] == "EUR"
        assert metadata["pricing"]["by_model"][MODEL]["total"] > 0
        assert metadata["emissions_kgCO2eq"] > 0 and metadata["emissions_gCO2eq"] > 0
        assert set(metadata["equivalences"]) == {
            "water_liters", "car_km", "tgv_km", "smartphone_charges"
        }


async def test_cancel_stops_the_reply_and_the_upstream_call(
    ws_url: str, fake_openai: FakeOpenAI
) -> None:
    fake_openai.reply_text = " ".join(f"word{i}" for i in range(200))
    fake_openai.stream_delay_s = 0.05
    async with open_ws(ws_url) as ws:
        await receive(ws)
        await send(ws, "message", {"text": "A long story, please", "message_id": "story"})
        first = await receive(ws)
        assert first["type"] == "delta"
        await send(ws, "cancel", {"message_id": "story"})
        _, done, deltas = await reply(ws)
        assert done["message_id"] == "story" and done["cancelled"] is True
        assert deltas < 199
        close = await fake_openai.wait_client_close(timeout=10)
        assert close.path.endswith("/chat/completions")


async def test_webrtc_signalling_is_relayed_as_is_within_a_session(ws_url: str) -> None:
    room = f"{ws_url}?session_id=call-42"
    async with open_ws(room) as alice, open_ws(room) as bob, open_ws(ws_url) as stranger:
        for ws in (alice, bob, stranger):
            await receive(ws)
        offer = json.dumps(
            {"type": "offer", "payload": {"sdp": "v=0\r\no=- 1 2 IN IP4 127.0.0.1", "type": "offer"}}
        )
        await alice.send(offer)
        assert await asyncio.wait_for(bob.recv(), EVENT_TIMEOUT_S) == offer
        answer = json.dumps({"type": "answer", "payload": {"sdp": "v=0", "type": "answer"}})
        await bob.send(answer)
        assert await asyncio.wait_for(alice.recv(), EVENT_TIMEOUT_S) == answer
        ice = json.dumps({"type": "ice", "payload": {"candidate": "candidate:1 1 UDP 1 x 9 typ host"}})
        await alice.send(ice)
        assert await asyncio.wait_for(bob.recv(), EVENT_TIMEOUT_S) == ice
        # Another session's client got none of it: its next message is its own pong.
        await send(stranger, "ping", {"nonce": "mine"})
        assert (await receive(stranger))["payload"]["nonce"] == "mine"
        # Nor did the sender get its own messages back.
        await send(alice, "ping", {"nonce": "alice"})
        assert (await receive(alice))["payload"]["nonce"] == "alice"


async def test_a_malformed_message_gets_an_error_and_the_session_goes_on(ws_url: str) -> None:
    async with open_ws(ws_url) as ws:
        await receive(ws)
        for bad, named in [
            ("not json", "JSON"),
            (json.dumps({"type": "shout", "payload": {}}), "shout"),
            (json.dumps({"type": "message", "payload": {"text": 42}}), "payload.text"),
        ]:
            await ws.send(bad)
            error = await receive(ws)
            assert error["type"] == "error"
            assert error["payload"]["code"] == 3  # INVALID_ARGUMENT
            assert named in error["payload"]["message"]
            assert error["payload"]["details"][0]["reason"] == "INVALID_ARGUMENT"
        await send(ws, "ping", {"nonce": "ok"})
        assert (await receive(ws))["type"] == "pong"


async def test_an_invalid_session_id_is_refused_with_a_reason(ws_url: str) -> None:
    async with open_ws(f"{ws_url}?session_id=bad%20id") as ws:
        error = await receive(ws)
        assert error["type"] == "error" and "session_id" in error["payload"]["message"]
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), EVENT_TIMEOUT_S)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008


async def test_analysis_over_rest(
    served: tuple[RunningServer, EnvoyProcess], fake_openai: FakeOpenAI
) -> None:
    async with httpx.AsyncClient(
        base_url=served[1].rest_url, headers=auth_headers(), timeout=30
    ) as rest:
        fake_openai.reply_next("```json\n" + json.dumps(ANALYSIS) + "\n```")
        made = await rest.post("/api/analyse", json={"text": "Une note sur Lyon."})
        assert made.status_code == 200, made.text
        analysis = made.json()["analysis"]
        assert (analysis["sentiment"], analysis["language"]) == ("neutral", "fr")
        assert analysis["entities"] == [{"text": "Lyon", "type": "location"}]
        assert analysis["metadata"]["usage"]["input_tokens"] == FakeOpenAI.prompt_tokens
        got = await rest.get(f"/api/analyses/{analysis['analysis_id']}")
        assert got.json()["analysis"] == analysis
        listed = await rest.get("/api/analyses", params={"page_size": 1})
        assert listed.json()["analyses"][0]["analysis_id"] == analysis["analysis_id"]
        assert (await rest.delete(f"/api/analyses/{analysis['analysis_id']}")).status_code == 200
        assert (await rest.get(f"/api/analyses/{analysis['analysis_id']}")).status_code == 404

        empty = await rest.post("/api/analyse", json={"text": ""})
        assert empty.status_code == 400 and "`text`" in empty.json()["message"]

        fake_openai.reply_next("no JSON here", "still none")
        failed = await rest.post("/api/analyse", json={"text": "Une note sur Lyon."})
        assert failed.status_code == 503
        assert failed.json()["details"][0]["reason"] == "MODEL_OUTPUT_INVALID"


async def test_a_one_shot_session_over_rest(
    served: tuple[RunningServer, EnvoyProcess], fake_openai: FakeOpenAI
) -> None:
    """POST /realtime/session carries a JSON array of events: the session answers them and
    ends (the client's side is over once the body is sent)."""
    async with httpx.AsyncClient(
        base_url=served[1].rest_url, headers=auth_headers(), timeout=30
    ) as rest:
        response = await rest.post(
            "/realtime/session", json=[{"ping": {"nonce": "p"}}, {"message": {"text": "Hi"}}]
        )
    assert response.status_code == 200, response.text
    events = [
        json.loads(line.removeprefix("data: "))
        for line in response.text.splitlines()
        if line.startswith("data: ")
    ] or json.loads(response.text)
    kinds = [next(iter(event)) for event in events]
    assert kinds[:2] == ["started", "pong"] and kinds[-1] == "done"
    assert "".join(e["delta"]["content"] for e in events if "delta" in e) == (
        fake_openai.reply_text
    )
