"""Process faults: the server killed with SIGKILL under concurrent conversation writes and
streams, then started again on the same data; Envoy killed with SIGKILL and brought back.

After the restart every append that was acknowledged before the kill is stored, the SQLite
file passes `PRAGMA integrity_check`, and the server takes new writes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import httpx
import pytest
from conversation_client import ConversationWriter
from fakes import FakeOpenAI
from routeur.v1 import completion_service_pb2 as completion_pb
from routeur.v1 import completion_service_pb2_grpc as completion_grpc
from server_process import ServerProcess
from support import auth_headers, open_channel

pytestmark = pytest.mark.slow

WRITERS = 6
STREAMS = 6


@pytest.fixture
async def slow_openai() -> AsyncIterator[FakeOpenAI]:
    fake = FakeOpenAI()
    fake.reply_text = " ".join(["token"] * 400)
    fake.stream_delay_s = 0.01
    await fake.start()
    yield fake
    await fake.stop()


def environment(fake: FakeOpenAI, *, gateway: bool) -> dict[str, str]:
    return {
        "ROUTEUR_LOCAL_MODEL_ENABLED": "false",
        "ROUTEUR_GATEWAY_ENABLED": "true" if gateway else "false",
        "ROUTEUR_GATEWAY_RESTART_BACKOFF_S": "0.2",
        "ROUTEUR_GATEWAY_HEALTH_CHECK_INTERVAL_S": "0.3",
        "ROUTEUR_PROVIDERS": json.dumps([{
            "name": "openai", "type": "openai", "base_url": f"{fake.url}/v1",
            "api_key": "sk-process-faults",
        }]),
    }


async def keep_writing(writer: ConversationWriter, stop: asyncio.Event) -> None:
    index = 0
    while not stop.is_set():
        try:
            await writer.append(f"{writer.conversation_id} message {index}", timeout_s=5)
        except grpc.aio.AioRpcError:
            return  # the server is gone; what was acknowledged is recorded
        index += 1


async def keep_streaming(channel: grpc.aio.Channel, stop: asyncio.Event) -> None:
    stub = completion_grpc.CompletionServiceStub(channel)
    while not stop.is_set():
        try:
            async for _ in stub.StreamCompletion(
                completion_pb.StreamCompletionRequest(message="Tell a story", model="gpt-4o"),
                timeout=10,
            ):
                if stop.is_set():
                    break
        except grpc.aio.AioRpcError:
            return


async def test_sigkill_under_writes_and_streams_loses_no_acknowledged_append(
    tmp_path: Path, slow_openai: FakeOpenAI
) -> None:
    server = ServerProcess(tmp_path, environment(slow_openai, gateway=False))
    await asyncio.to_thread(server.start)
    writers: list[ConversationWriter] = []
    try:
        async with open_channel(server.address) as channel:
            for _ in range(WRITERS):
                writer = ConversationWriter(channel)
                await writer.create()
                writers.append(writer)
            stop = asyncio.Event()
            tasks = [asyncio.create_task(keep_writing(w, stop)) for w in writers]
            tasks += [asyncio.create_task(keep_streaming(channel, stop)) for _ in range(STREAMS)]
            while sum(len(w.acknowledged) for w in writers) < 60:
                await asyncio.sleep(0.05)
            await asyncio.to_thread(server.kill)  # mid-write, mid-stream
            stop.set()
            await asyncio.gather(*tasks)
        acknowledged = sum(len(w.acknowledged) for w in writers)
        assert acknowledged >= 60

        with contextlib.closing(sqlite3.connect(next(tmp_path.glob("*.sqlite3")))) as database:
            assert database.execute("PRAGMA integrity_check").fetchone()[0] == "ok"

        await asyncio.to_thread(server.start)
        async with open_channel(server.address) as channel:
            for writer in writers:
                writer.channel = channel
                assert await writer.missing() == []
                await writer.append("after the restart")
    finally:
        await asyncio.to_thread(server.stop)


async def test_envoy_killed_with_sigkill_is_brought_back(
    tmp_path: Path, slow_openai: FakeOpenAI
) -> None:
    server = ServerProcess(tmp_path, environment(slow_openai, gateway=True))
    await asyncio.to_thread(server.start)
    try:
        envoy_pids = [
            int(pid) for pid in os.listdir("/proc") if pid.isdigit()
            and _parent(int(pid)) == server.pid and _name(int(pid)) == "envoy"
        ]
        assert len(envoy_pids) == 1
        os.kill(envoy_pids[0], signal.SIGKILL)
        async with httpx.AsyncClient(base_url=server.rest_url, timeout=5) as client:
            for _ in range(300):
                with contextlib.suppress(httpx.HTTPError):
                    response = await client.get("/health", headers=auth_headers())
                    if response.status_code == 200:
                        break
                await asyncio.sleep(0.1)
            else:
                raise AssertionError("REST did not come back")
        messages = [entry.get("msg") for entry in server.log]
        assert "REST gateway (Envoy) exited; restarting" in messages
        exit_entry = next(e for e in server.log if e.get("msg", "").startswith("REST gateway (Envoy) exited"))
        assert exit_entry["status"] == -signal.SIGKILL
    finally:
        await asyncio.to_thread(server.stop)


def _parent(pid: int) -> int | None:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def _name(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""
