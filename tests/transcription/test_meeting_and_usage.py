"""Meetings (transcript + a chat model's report) and the usage every transcription records."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import grpc
import pytest
from routeur.v1 import transcription_service_pb2 as pb
from support import LOCAL_MODEL, user_id_of

from .scripted_engine import SPOKEN_TEXT
from .test_sync_transcription import upload


async def test_a_meeting_gets_its_transcript_and_a_report_by_the_chat_model(stt, recordings):
    answer = await stt.TranscribeMeeting(
        upload(
            recordings["mp3"],
            pb.TranscribeMeetingRequest,
            project_id="proj-abc123",
            max_duration_seconds=3600,
        )
    )
    assert answer.transcript == SPOKEN_TEXT
    assert answer.text == f"{answer.report.text}\n\n---\n\n{SPOKEN_TEXT}"
    assert answer.project_id == "proj-abc123"
    assert answer.report.model == LOCAL_MODEL
    assert answer.report.text  # whatever the small model wrote, it is there


async def test_a_meeting_longer_than_its_max_duration_is_refused(stt, recordings):
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stt.TranscribeMeeting(
            upload(recordings["wav"], pb.TranscribeMeetingRequest, max_duration_seconds=1)
        )
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "max_duration_seconds" in caught.value.details()


async def test_each_transcription_is_recorded_with_its_cost(stt, stt_server, recordings, engine):
    usage = stt_server.server.app.store.usage
    today = datetime.now(UTC).date()
    owner = await user_id_of(stt_server.address)  # the test's caller, the bootstrap admin
    before = await usage.total(owner, first_day=today, last_day=today)
    engine.cost_usd = 0.006  # a minute of whisper-1
    try:
        answer = await stt.TranscribeAudio(upload(recordings["wav"]))
    finally:
        engine.cost_usd = None
    for _ in range(100):  # usage is written in the background
        after = await usage.total(owner, first_day=today, last_day=today)
        if after.requests > before.requests:
            break
        await asyncio.sleep(0.05)
    assert after.requests == before.requests + 1
    assert after.cost - before.cost == pytest.approx(0.006 * 0.86, rel=0.01)
    assert answer.duration > 0
    assert after.audio_seconds - before.audio_seconds == pytest.approx(answer.duration)
