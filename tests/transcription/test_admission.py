"""Admission control: beyond the caller's (or the instance's) running transcriptions, a
synchronous call is refused at once with a retry delay and pointed to jobs, which queue."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from routeur.v1 import transcription_service_pb2 as pb
from support import error_info

from .test_jobs import slow
from .test_sync_transcription import upload


async def test_a_caller_at_its_limit_is_told_to_retry_or_queue_a_job(
    stt, stt_server, stt_rest, recordings, engine
):
    admission = stt_server.server.app.transcription.admission
    with slow(engine, 1.0):
        busy = [
            asyncio.ensure_future(stt.TranscribeAudio(upload(recordings["wav"]))) for _ in range(2)
        ]
        try:
            for _ in range(400):
                if admission.running >= 2:
                    break
                await asyncio.sleep(0.02)
            assert admission.running == 2

            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await stt.TranscribeAudio(upload(recordings["wav"]))
            assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
            assert error_info(caught.value).reason == "TRANSCRIPTION_BUSY"
            assert "transcription job" in caught.value.details()

            with recordings["wav"].open("rb") as file:
                response = await stt_rest.post("/transcription", files={"file": ("a.wav", file)})
            assert response.status_code == 429
            assert response.headers["retry-after"] == "10"

            queued = await stt.CreateTranscriptionJob(
                upload(recordings["wav"], pb.CreateTranscriptionJobRequest)
            )
            assert queued.status == "queued"
            await stt.CancelTranscriptionJob(pb.CancelTranscriptionJobRequest(job_id=queued.job_id))
        finally:
            for call in busy:
                call.cancel()
            await asyncio.gather(*busy, return_exceptions=True)
    for _ in range(400):
        if admission.running == 0:
            break
        await asyncio.sleep(0.02)
    assert admission.running == 0, "slots are given back when callers go away"
