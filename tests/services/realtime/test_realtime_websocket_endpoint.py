"""The realtime WebSocket endpoint on its own port (Envoy's part is in tests/gateway):
sessions counted with gRPC ones in the caller's cap, idle connections closed with a reason,
and nothing but `/realtime/ws` served."""

from __future__ import annotations

import asyncio
import json

import grpc
import pytest
import websockets
from fakes import FakeOpenAI
from openai_backed import start_openai_backed_server
from support import RunningServer, auth_headers
from websockets.asyncio.client import connect

from routeur_grpc.api.websocket_auth import websocket_credential

from .realtime_client import EVENT_TIMEOUT_S, SESSION_CAP, SessionClient


def url(server: RunningServer, path: str = "/realtime/ws") -> str:
    return f"ws://127.0.0.1:{server.server.websocket_port}{path}"


async def receive(ws) -> dict:  # type: ignore[no-untyped-def]
    return json.loads(await asyncio.wait_for(ws.recv(), EVENT_TIMEOUT_S))


async def test_websocket_and_grpc_sessions_share_the_callers_cap(
    realtime_server: RunningServer, open_session
) -> None:
    grpc_sessions: list[SessionClient] = [open_session() for _ in range(SESSION_CAP - 1)]
    for session in grpc_sessions:
        await session.started()
    async with connect(url(realtime_server), additional_headers=auth_headers()) as ws:
        assert (await receive(ws))["type"] == "started"
        async with connect(url(realtime_server), additional_headers=auth_headers()) as extra:
            refused = await receive(extra)
            assert refused["type"] == "error"
            assert refused["payload"]["details"][0]["reason"] == "TOO_MANY_SESSIONS"
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await asyncio.wait_for(extra.recv(), EVENT_TIMEOUT_S)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1013
    for session in grpc_sessions:
        await session.close()
    # Every place is given back (the server notices a WebSocket close on its own time).
    for _ in range(200):
        again: list[SessionClient] = [open_session() for _ in range(SESSION_CAP)]
        try:
            for session in again:
                await session.started()
            break
        except grpc.aio.AioRpcError:
            for session in again:
                session.call.cancel()
            await asyncio.sleep(0.05)
    else:
        raise AssertionError("the sessions' places were not given back")
    for session in again:
        await session.close()


async def test_an_idle_websocket_session_is_closed_with_its_reason(
    tmp_path_factory: pytest.TempPathFactory, openai_upstream: FakeOpenAI
) -> None:
    running = await start_openai_backed_server(
        tmp_path_factory.mktemp("ws-idle"), openai_upstream, realtime_idle_timeout_s=0.3
    )
    try:
        async with connect(url(running), additional_headers=auth_headers()) as ws:
            assert (await receive(ws))["type"] == "started"
            error = await receive(ws)
            assert error["type"] == "error"
            assert error["payload"]["details"][0]["reason"] == "SESSION_IDLE"
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), EVENT_TIMEOUT_S)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1000
    finally:
        await running.server.stop(grace=0.5)


async def test_other_paths_are_not_found(realtime_server: RunningServer) -> None:
    with pytest.raises(websockets.InvalidStatus) as refused:
        async with connect(url(realtime_server, "/elsewhere")):
            pass
    assert refused.value.response.status_code == 404


def test_the_credential_comes_from_the_subprotocol_or_the_authorization_header() -> None:
    assert websocket_credential({}, ["routeur.v1", "bearer.abc"]) == "abc"
    assert websocket_credential({"authorization": "Bearer xyz"}, []) == "xyz"
    assert websocket_credential({}, ["routeur.v1"]) is None


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Bearer rk_nobody_not-a-valid-key-at-all-0000000000"}]
)
async def test_a_connection_without_a_valid_credential_gets_an_error_and_no_session(
    realtime_server: RunningServer, headers: dict[str, str]
) -> None:
    async with connect(url(realtime_server), additional_headers=headers) as ws:
        refused = await receive(ws)
        assert refused["type"] == "error"
        assert refused["payload"]["code"] == grpc.StatusCode.UNAUTHENTICATED.value[0]
        with pytest.raises(websockets.ConnectionClosed):
            await asyncio.wait_for(ws.recv(), EVENT_TIMEOUT_S)


async def test_a_browser_sends_its_key_as_a_subprotocol(realtime_server: RunningServer) -> None:
    key = auth_headers()["Authorization"].removeprefix("Bearer ")
    async with connect(
        url(realtime_server), subprotocols=["routeur.v1", f"bearer.{key}"]
    ) as ws:
        assert (await receive(ws))["type"] == "started"
