"""What happens to uploads and jobs as servers stop, queues fill and audio ages: each test
runs a server of its own."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from routeur.v1 import transcription_service_pb2 as pb
from routeur.v1 import transcription_service_pb2_grpc as pb_grpc
from support import error_info, open_channel, server_settings

from routeur_grpc.server import RouteurServer, build_server
from routeur_grpc.services.transcription_workers import MAX_ATTEMPTS
from routeur_grpc.storage import open_store

from .scripted_engine import ScriptedEngine
from .test_sync_transcription import upload


@contextlib.asynccontextmanager
async def serving(
    data_dir: Path, engine: ScriptedEngine, **settings: object
) -> AsyncIterator[tuple[RouteurServer, pb_grpc.TranscriptionServiceStub]]:
    values: dict[str, object] = {"local_model_enabled": False, "transcription_job_poll_s": 0.05}
    values.update(settings)
    server, port = await build_server(server_settings(data_dir, **values), {"scripted": engine})
    await server.start()
    try:
        async with open_channel(f"127.0.0.1:{port}") as channel:
            yield server, pb_grpc.TranscriptionServiceStub(channel)
    finally:
        await server.stop(grace=0.5)


async def eventually(check, what: str) -> None:  # type: ignore[no-untyped-def]
    for _ in range(400):
        if await check():
            return
        await asyncio.sleep(0.025)
    raise AssertionError(what)


async def test_a_server_stopping_mid_upload_leaves_no_file(tmp_path):
    async def stalls():
        yield pb.TranscribeAudioRequest(file_name="a.wav")
        yield pb.TranscribeAudioRequest(audio={"data": bytes(100_000)})
        await asyncio.Event().wait()

    settings = server_settings(tmp_path, local_model_enabled=False)
    server, port = await build_server(settings, {"scripted": ScriptedEngine()})
    await server.start()
    async with open_channel(f"127.0.0.1:{port}") as channel:
        call = pb_grpc.TranscriptionServiceStub(channel).TranscribeAudio(stalls())

        async def spooling() -> bool:
            return bool(list((tmp_path / "uploads").iterdir()))

        await eventually(spooling, "the upload never reached the disk")
        await server.stop(grace=0.2)  # the client is still connected, mid-upload
        with pytest.raises(grpc.aio.AioRpcError):
            await call
    assert list((tmp_path / "uploads").iterdir()) == []


async def test_a_server_stopping_mid_job_gives_it_back_to_the_queue(tmp_path, recordings):
    async with serving(tmp_path, ScriptedEngine(step_delay_s=1.0, steps=10)) as (_, stub):
        created = await stub.CreateTranscriptionJob(
            upload(recordings["wav"], pb.CreateTranscriptionJobRequest)
        )

        async def running() -> bool:
            job = await stub.GetTranscriptionJob(
                pb.GetTranscriptionJobRequest(job_id=created.job_id)
            )
            return job.status == "running"

        await eventually(running, "the job never started")
    store = await open_store(server_settings(tmp_path))
    try:
        (admin,) = (await store.users.list()).items  # the caller: the bootstrap admin
        job = await store.jobs.get(admin.user_id, created.job_id)
    finally:
        await store.close()
    assert (job.status, job.lease_owner) == ("queued", None)


async def test_beyond_the_callers_queue_jobs_are_refused_with_a_retry_delay(tmp_path, recordings):
    settings = {"transcription_job_workers": 0, "transcription_max_waiting_jobs_per_caller": 1}
    async with serving(tmp_path, ScriptedEngine(), **settings) as (_, stub):
        first = await stub.CreateTranscriptionJob(
            upload(recordings["wav"], pb.CreateTranscriptionJobRequest)
        )
        assert first.status == "queued"
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await stub.CreateTranscriptionJob(
                upload(recordings["wav"], pb.CreateTranscriptionJobRequest)
            )
    assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert error_info(caught.value).reason == "TOO_MANY_JOBS"
    assert dict(caught.value.trailing_metadata())["retry-after"] == "10"


async def test_a_finished_jobs_audio_is_removed_after_the_retention(tmp_path, recordings):
    audio_dir = tmp_path / "job-audio"
    async with serving(tmp_path, ScriptedEngine(), transcription_audio_retention_s=1) as (_, stub):
        created = await stub.CreateTranscriptionJob(
            upload(recordings["wav"], pb.CreateTranscriptionJobRequest)
        )
        assert list(audio_dir.iterdir()), "the audio waits for a worker"
        async for change in stub.WatchTranscriptionJob(
            pb.WatchTranscriptionJobRequest(job_id=created.job_id)
        ):
            pass
        assert change.job.status == "succeeded"

        async def removed() -> bool:
            return not list(audio_dir.iterdir())

        await eventually(removed, "the audio of the finished job is still there")
    assert spool_files_of(tmp_path) == []


def spool_files_of(data_dir: Path) -> list[Path]:
    return sorted((data_dir / "uploads").iterdir())


async def test_a_job_whose_servers_keep_dying_is_given_up_not_handed_on_forever(
    tmp_path, recordings
):
    async with serving(tmp_path, ScriptedEngine(), transcription_job_workers=0) as (server, stub):
        created = await stub.CreateTranscriptionJob(
            upload(recordings["wav"], pb.CreateTranscriptionJobRequest)
        )
        jobs = server.app.store.jobs
        for attempt in range(MAX_ATTEMPTS):  # instances that took it and stopped
            claimed = await jobs.claim_next(f"dead-{attempt}", 30)
            assert claimed is not None and claimed.job_id == created.job_id
            await jobs.release(created.job_id, f"dead-{attempt}")
    engine = ScriptedEngine()
    async with serving(tmp_path, engine) as (_, stub):
        async for change in stub.WatchTranscriptionJob(
            pb.WatchTranscriptionJobRequest(job_id=created.job_id)
        ):
            pass
    assert change.job.status == "failed"
    assert "Given up after" in change.job.error
    assert engine.requests == []
