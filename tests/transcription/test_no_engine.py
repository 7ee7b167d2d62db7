"""A server with no speech-to-text engine says so, before taking any upload."""

from __future__ import annotations

import grpc
import pytest
from routeur.v1 import transcription_service_pb2 as pb
from routeur.v1 import transcription_service_pb2_grpc as pb_grpc
from support import open_channel, server_settings

from routeur_grpc.server import build_server


async def test_transcribing_without_an_engine_is_a_failed_precondition(tmp_path):
    settings = server_settings(tmp_path, local_model_enabled=False)
    server, port = await build_server(settings, {})
    await server.start()
    try:
        async with open_channel(f"127.0.0.1:{port}") as channel:
            stub = pb_grpc.TranscriptionServiceStub(channel)
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await stub.TranscribeAudio(iter([pb.TranscribeAudioRequest(file_name="a.wav")]))
    finally:
        await server.stop(grace=0.5)
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "speech-to-text engine" in caught.value.details()
