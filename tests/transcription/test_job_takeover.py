"""A job survives `kill -9` of the server running it: another instance sharing the store
takes it over once the lease expires, and finishes it. With SQLite the instances share the
data directory; with MongoDB they share nothing but the database (audio in GridFS)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from routeur.v1 import transcription_service_pb2 as pb
from routeur.v1 import transcription_service_pb2_grpc as pb_grpc
from support import open_channel

from routeur_grpc.server import build_server

from .scripted_engine import SPOKEN_TEXT, ScriptedEngine
from .serve_scripted import settings_for
from .test_sync_transcription import upload

pytestmark = pytest.mark.slow
SCRIPT = Path(__file__).with_name("serve_scripted.py")
ROOT = Path(__file__).resolve().parents[2]


def start_subprocess_server(
    data_dir: Path, step_delay_s: float, mongodb_uri: str = ""
) -> tuple[subprocess.Popen[str], str]:
    env = {**os.environ, "PYTHONPATH": f"{ROOT}:{ROOT / 'generated'}"}
    process = subprocess.Popen(
        [sys.executable, str(SCRIPT), str(data_dir), str(step_delay_s), mongodb_uri],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    assert line.startswith("PORT "), f"the server did not start: {line!r}"
    return process, f"127.0.0.1:{line.split()[1]}"


async def wait_until_running(stub: pb_grpc.TranscriptionServiceStub, job_id: str) -> None:
    for _ in range(400):
        job = await stub.GetTranscriptionJob(pb.GetTranscriptionJobRequest(job_id=job_id))
        if job.status == "running" and job.progress_percent > 0:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"the job never started: {job}")


async def killed_and_taken_over(tmp_path: Path, recordings, mongodb_uri: str = "") -> None:
    first_dir = tmp_path / "first"
    process, address = await asyncio.to_thread(start_subprocess_server, first_dir, 0.5, mongodb_uri)
    try:
        async with open_channel(address) as channel:
            stub = pb_grpc.TranscriptionServiceStub(channel)
            created = await stub.CreateTranscriptionJob(
                upload(recordings["wav"], pb.CreateTranscriptionJobRequest)
            )
            await wait_until_running(stub, created.job_id)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()

    # Same data directory for SQLite (the store is there); a fresh one for MongoDB.
    second_dir = tmp_path / ("second" if mongodb_uri else "first")
    engine = ScriptedEngine(steps=3)
    server, port = await build_server(settings_for(second_dir, mongodb_uri), {"scripted": engine})
    await server.start()
    try:
        async with open_channel(f"127.0.0.1:{port}") as channel:
            stub = pb_grpc.TranscriptionServiceStub(channel)
            seen = [
                change.job
                async for change in stub.WatchTranscriptionJob(
                    pb.WatchTranscriptionJobRequest(job_id=created.job_id)
                )
            ]
    finally:
        await server.stop(grace=1.0)
    assert seen[0].status == "running"  # as the dead instance left it
    assert seen[-1].status == "succeeded", seen[-1].error
    assert seen[-1].transcript_text == SPOKEN_TEXT
    assert len(engine.requests) == 1, "the second instance ran it"
    # The dead instance's upload spool was cleared by the next start on that directory.
    if not mongodb_uri:
        assert list((first_dir / "uploads").iterdir()) == []
        assert list((first_dir / "job-audio").iterdir()) == []  # retention 0


async def test_a_job_survives_kill_9_with_sqlite(tmp_path, recordings):
    await killed_and_taken_over(tmp_path, recordings)


async def test_a_job_survives_kill_9_with_mongodb(tmp_path, recordings, mongodb_uri):
    await killed_and_taken_over(tmp_path, recordings, mongodb_uri)
