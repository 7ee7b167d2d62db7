"""Bytes that are not a valid request message are the caller's INVALID_ARGUMENT.

Sent with a generic client (no serializer), as a buggy or hostile client would: truncated
messages, invalid UTF-8 in a string field, `google.protobuf.Value` nested too deep. The
answer names no Python class and no exception text, and the log holds at most one INFO line
per interval for them, never an ERROR.
"""

from __future__ import annotations

import logging

import grpc
import pytest
from google.protobuf import struct_pb2
from google.protobuf.internal import encoder
from routeur.v1 import completion_service_pb2 as completion_pb
from routeur.v1 import openai_compat_service_pb2 as openai_pb
from support import error_info

from routeur_grpc.interceptors.request_decoding import MalformedRequest, tolerant_deserializer

GET_MODEL = "/routeur.v1.ModelService/GetModel"
COMPLETE = "/routeur.v1.CompletionService/Complete"
STREAM = "/routeur.v1.CompletionService/StreamCompletion"
CHAT = "/routeur.v1.OpenAICompatService/CreateChatCompletion"
INTERNAL_WORDS = ("Traceback", "DecodeError", "Exception", "<class", "google.protobuf", ".py")


def _field(number: int, payload: bytes) -> bytes:
    return encoder._VarintBytes(number << 3 | 2) + encoder._VarintBytes(len(payload)) + payload


def nested_value_bytes(depth: int) -> bytes:
    """A Value holding a list holding a list... `depth` times, encoded by hand (the Python
    library itself refuses to build one that deep)."""
    value = struct_pb2.Value(string_value="leaf").SerializeToString()
    for _ in range(depth):
        value = _field(6, _field(1, value))  # Value.list_value { ListValue.values }
    return value


def chat_request_with_content(content: bytes) -> bytes:
    message = _field(1, b"user") + _field(2, content)  # OpenAIChatMessage role, content
    request = openai_pb.CreateChatCompletionRequest(model="gpt-4o").SerializeToString()
    return request + _field(
        openai_pb.CreateChatCompletionRequest.DESCRIPTOR.fields_by_name["messages"].number,
        message,
    )


MALFORMED = {
    "truncated": (GET_MODEL, b"\x0a\x05ab"),
    "invalid UTF-8 in a string": (GET_MODEL, b"\x0a\x02\xff\xfe"),
    "garbage": (COMPLETE, b"\xff\xff\xff\xff"),
    "Value nested 60 deep": (CHAT, chat_request_with_content(nested_value_bytes(60))),
}


def assert_plain(error: grpc.aio.AioRpcError) -> None:
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert not any(word in error.details() for word in INTERNAL_WORDS), error.details()
    assert error_info(error).reason == "MALFORMED_REQUEST"


@pytest.mark.parametrize(("method", "data"), MALFORMED.values(), ids=MALFORMED.keys())
async def test_malformed_bytes_are_invalid_argument_with_a_plain_message(
    channel: grpc.aio.Channel, method: str, data: bytes
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await channel.unary_unary(method)(data, timeout=10)
    assert_plain(caught.value)
    assert "not a valid routeur.v1." in caught.value.details()


async def test_a_malformed_streaming_request_is_refused_the_same_way(
    channel: grpc.aio.Channel,
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        async for _ in channel.unary_stream(STREAM)(b"\x0a\x02\xff\xfe", timeout=10):
            pass
    assert_plain(caught.value)


async def test_a_valid_request_still_gets_through(channel: grpc.aio.Channel) -> None:
    request = completion_pb.CompleteRequest(message="Bonjour", model="no-such-model")
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await channel.unary_unary(COMPLETE)(request.SerializeToString(), timeout=10)
    assert error_info(caught.value).reason == "UNKNOWN_MODEL"  # decoded, then refused


async def test_a_flood_of_malformed_requests_logs_one_info_line_and_no_error(
    channel: grpc.aio.Channel, caplog: pytest.LogCaptureFixture
) -> None:
    call = channel.unary_unary(GET_MODEL)
    with caplog.at_level(logging.DEBUG):
        for _ in range(30):
            with pytest.raises(grpc.aio.AioRpcError):
                await call(b"\x0a\x05ab", timeout=10)
    refused = [r for r in caplog.records if r.getMessage() == "malformed request refused"]
    assert len(refused) <= 1
    assert all(r.levelno <= logging.INFO for r in refused)
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_the_decoder_returns_a_marker_instead_of_raising() -> None:
    decode = tolerant_deserializer(completion_pb.CompleteRequest.FromString, "routeur.v1.X")
    assert decode is not None
    assert decode(b"\x0a\x05ab") == MalformedRequest("routeur.v1.X", 4)
    assert decode(b"") == completion_pb.CompleteRequest()
