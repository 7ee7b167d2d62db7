"""Transcription jobs over gRPC: created at once, watched as they progress, listed, cancelled,
and private to their owner."""

from __future__ import annotations

import asyncio
import contextlib

import grpc
import pytest
from prometheus_client.parser import text_string_to_metric_families
from routeur.v1 import transcription_service_pb2 as pb

from routeur_grpc.domain.caller import Caller
from routeur_grpc.errors import NotFound

from .scripted_engine import SPOKEN_TEXT
from .test_sync_transcription import upload


@contextlib.contextmanager
def slow(engine, step_delay_s: float):
    engine.step_delay_s = step_delay_s
    try:
        yield
    finally:
        engine.step_delay_s = 0.0


async def create(stt, path, **options) -> pb.CreateTranscriptionJobResponse:
    return await stt.CreateTranscriptionJob(
        upload(path, pb.CreateTranscriptionJobRequest, **options)
    )


async def watch(stt, job_id: str) -> list[pb.TranscriptionJob]:
    seen = []
    async for change in stt.WatchTranscriptionJob(pb.WatchTranscriptionJobRequest(job_id=job_id)):
        seen.append(change.job)
    return seen


async def test_a_job_is_queued_at_once_and_watched_to_the_end(stt, recordings, engine):
    with slow(engine, 0.3):
        created = await create(stt, recordings["mp3"], language="en")
        assert created.status == "queued"
        assert created.job_id
        assert created.created_at.seconds > 0
        changes = await watch(stt, created.job_id)
    progress = [job.progress_percent for job in changes]
    assert progress == sorted(progress), "progress never goes back"
    assert any(0 < p < 100 for p in progress), f"progress moved with the segments: {progress}"
    last = changes[-1]
    assert last.status == "succeeded"
    assert last.progress_percent == 100
    assert last.transcript_text == SPOKEN_TEXT
    assert last.transcript_language == "en"
    assert last.transcript_model == "scripted-1"
    assert last.job_type == "transcription_audio"
    got = await stt.GetTranscriptionJob(pb.GetTranscriptionJobRequest(job_id=created.job_id))
    assert got == last


async def test_a_meeting_job_holds_the_report_then_the_transcript(stt, recordings):
    created = await create(stt, recordings["wav"], kind="meeting", project_id="p1")
    last = (await watch(stt, created.job_id))[-1]
    assert last.status == "succeeded", last.error
    assert last.job_type == "transcription_meeting"
    assert last.transcript_text.endswith(f"\n\n---\n\n{SPOKEN_TEXT}")


async def test_a_cancelled_job_stops_and_stays_cancelled(stt, recordings, engine):
    with slow(engine, 1.0):
        created = await create(stt, recordings["wav"])
        for _ in range(200):
            job = await stt.GetTranscriptionJob(
                pb.GetTranscriptionJobRequest(job_id=created.job_id)
            )
            if job.status == "running":
                break
            await asyncio.sleep(0.05)
        cancelled = await stt.CancelTranscriptionJob(
            pb.CancelTranscriptionJobRequest(job_id=created.job_id)
        )
        assert cancelled.job.status == "cancelled"
        changes = await watch(stt, created.job_id)
    assert changes[-1].status == "cancelled"
    again = await stt.CancelTranscriptionJob(
        pb.CancelTranscriptionJobRequest(job_id=created.job_id)
    )
    assert again.job.status == "cancelled"  # idempotent


async def test_jobs_are_listed_newest_first_with_paging(stt, recordings):
    ids = [(await create(stt, recordings["wav"])).job_id for _ in range(3)]
    first = await stt.ListTranscriptionJobs(pb.ListTranscriptionJobsRequest(page_size=2))
    assert [job.job_id for job in first.jobs] == ids[::-1][:2]
    assert first.next_page_token
    second = await stt.ListTranscriptionJobs(
        pb.ListTranscriptionJobsRequest(page_size=2, page_token=first.next_page_token)
    )
    assert second.jobs[0].job_id == ids[0]


async def test_an_unknown_job_is_not_found(stt):
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stt.GetTranscriptionJob(pb.GetTranscriptionJobRequest(job_id="nope"))
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND


async def test_a_job_is_invisible_to_another_owner(stt, stt_server, recordings):
    created = await create(stt, recordings["wav"])
    jobs = stt_server.server.app.transcription_jobs
    stranger = Caller(owner_id="someone-else", request_id="test")
    with pytest.raises(NotFound):
        await jobs.get(stranger, created.job_id)
    with pytest.raises(NotFound):
        await jobs.cancel(stranger, created.job_id)
    with pytest.raises(NotFound):
        async for _ in jobs.watch(stranger, created.job_id):
            pass
    assert (await jobs.list(stranger, 0, "")).items == ()


async def test_a_job_with_bad_audio_is_refused_before_it_is_queued(stt, tmp_path):
    text = tmp_path / "a.mp3"
    text.write_text("not audio " * 50)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await create(stt, text)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def _transitions(stt_server, status: str) -> float:
    """What the server's metrics show for jobs moved to `status`."""
    text = stt_server.server.app.metrics.exposition()[0].decode()
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "routeur_transcription_job_transitions_total"
        and sample.labels.get("status") == status
    )


async def _counted(stt_server, status: str, at_least: float) -> float:
    """The count of `status` once it reached `at_least` (the worker counts right after it
    wrote the job, which a watcher may see first), or as it is after a while."""
    for _ in range(100):
        if _transitions(stt_server, status) >= at_least:
            break
        await asyncio.sleep(0.05)
    return _transitions(stt_server, status)


async def test_the_metrics_count_the_statuses_this_instance_moves_jobs_to(
    stt, stt_server, recordings, engine
):
    before = {s: _transitions(stt_server, s) for s in ("queued", "running", "succeeded")}
    created = await create(stt, recordings["wav"])
    assert _transitions(stt_server, "queued") == before["queued"] + 1
    assert (await watch(stt, created.job_id))[-1].status == "succeeded"
    assert await _counted(stt_server, "running", before["running"] + 1) >= before["running"] + 1
    assert (
        await _counted(stt_server, "succeeded", before["succeeded"] + 1)
        >= before["succeeded"] + 1
    )
    cancelled = _transitions(stt_server, "cancelled")
    with slow(engine, 1.0):
        second = await create(stt, recordings["wav"])
        for _ in range(2):
            await stt.CancelTranscriptionJob(pb.CancelTranscriptionJobRequest(job_id=second.job_id))
    assert _transitions(stt_server, "cancelled") == cancelled + 1  # once, cancelled twice
