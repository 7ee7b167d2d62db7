"""The upload spool: the size cap is enforced while receiving, and nothing is left on disk
whatever way an upload ends."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from routeur.v1 import transcription_service_pb2 as pb
from support import error_info

from .conftest import UPLOAD_CAP_MB, spool_files

MB = 1024 * 1024


async def test_an_upload_over_the_cap_is_refused_while_it_is_still_sending(stt, stt_server):
    sent = 0
    refused_at: int | None = None

    async def endless():
        nonlocal sent
        yield pb.TranscribeAudioRequest(file_name="big.wav")
        while sent < 20 * UPLOAD_CAP_MB * MB:
            sent += 256 * 1024
            yield pb.TranscribeAudioRequest(audio={"data": bytes(256 * 1024)})
            await asyncio.sleep(0)

    call = stt.TranscribeAudio(endless())
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    refused_at = sent
    assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert f"{UPLOAD_CAP_MB} MB" in caught.value.details()
    assert error_info(caught.value).reason == "UPLOAD_TOO_LARGE"
    # Refused long before the client would have finished sending.
    assert refused_at < 20 * UPLOAD_CAP_MB * MB
    assert spool_files(stt_server) == []


async def test_a_client_that_goes_away_mid_upload_leaves_no_file(stt, stt_server):
    halfway = asyncio.Event()

    async def stalls():
        yield pb.TranscribeAudioRequest(file_name="a.wav")
        yield pb.TranscribeAudioRequest(audio={"data": bytes(300 * 1024)})
        halfway.set()
        await asyncio.Event().wait()  # never sends the rest

    call = stt.TranscribeAudio(stalls())
    await halfway.wait()
    for _ in range(200):  # the server has the first chunk on disk
        if spool_files(stt_server):
            break
        await asyncio.sleep(0.02)
    assert spool_files(stt_server), "the upload should be spooling"
    call.cancel()
    for _ in range(200):
        if not spool_files(stt_server):
            break
        await asyncio.sleep(0.02)
    assert spool_files(stt_server) == []


async def test_uploads_are_gone_after_success_too(stt, stt_server, recordings):
    from .test_sync_transcription import upload

    await stt.TranscribeAudio(upload(recordings["mp3"]))
    assert spool_files(stt_server) == []
