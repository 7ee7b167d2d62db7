"""What the long fuzz run (`bench/fuzz.py`) found, kept as specifications: each case is the
smallest request that showed the fault, sent to the real server over gRPC."""

from __future__ import annotations

import grpc
import pytest
from routeur.v1 import openai_compat_service_pb2 as openai_pb
from routeur.v1 import openai_compat_service_pb2_grpc as openai_grpc
from routeur.v1 import transcription_service_pb2 as pb
from routeur.v1 import transcription_service_pb2_grpc as pb_grpc
from support import open_channel

# An upload's content type is an HTTP header value: ASCII. These are not even Latin-1.
NOT_A_HEADER_VALUE = ["audio/🏻", "multipart/form-data; boundary=✓"]


def uploads(content_type: str) -> dict[str, tuple[str, object]]:
    audio = {"data": b"RIFF", "content_type": content_type}
    return {
        "TranscribeAudio": ("transcription", pb.TranscribeAudioRequest(audio=audio)),
        "TranscribeMeeting": ("transcription", pb.TranscribeMeetingRequest(audio=audio)),
        "CreateTranscriptionJob": ("transcription", pb.CreateTranscriptionJobRequest(audio=audio)),
        "CreateAudioTranscription": ("openai", openai_pb.CreateAudioTranscriptionRequest(body=audio)),
    }


@pytest.mark.parametrize("content_type", NOT_A_HEADER_VALUE)
@pytest.mark.parametrize(
    "rpc", ["TranscribeAudio", "TranscribeMeeting", "CreateTranscriptionJob",
            "CreateAudioTranscription"],
)
async def test_an_upload_whose_content_type_is_not_text_is_the_callers_mistake(
    fake_backed, rpc, content_type
):
    service, request = uploads(content_type)[rpc]
    async with open_channel(fake_backed.server.address) as channel:
        stub = (pb_grpc.TranscriptionServiceStub(channel) if service == "transcription"
                else openai_grpc.OpenAICompatServiceStub(channel))
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await getattr(stub, rpc)(iter([request]), timeout=10)
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "content type" in refused.value.details().lower()


async def test_a_unary_call_without_its_request_message_is_answered(fake_backed):
    async with open_channel(fake_backed.server.address) as channel:
        call = channel.stream_unary("/routeur.v1.HealthService/GetHealth")
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await call(iter([]), timeout=3)
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "no request message" in refused.value.details()


async def test_a_server_streaming_call_without_its_request_message_is_answered(fake_backed):
    async with open_channel(fake_backed.server.address) as channel:
        call = channel.stream_stream("/routeur.v1.CompletionService/StreamCompletion")
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            async for _ in call(iter([]), timeout=3):
                pass
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
