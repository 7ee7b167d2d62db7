"""What an error echoes of the request is bounded, so the caller always gets its own error.

A model name of a few kilobytes used to be repeated in the message and in ErrorInfo's
metadata until the trailers passed gRPC clients' metadata limit: the caller then got, at
random, RESOURCE_EXHAUSTED "metadata size exceeds hard limit" instead of INVALID_ARGUMENT.
"""

from __future__ import annotations

import grpc
import pytest
from routeur.v1 import completion_service_pb2 as pb
from routeur.v1 import completion_service_pb2_grpc as pb_grpc
from support import error_info

from routeur_grpc.errors import (
    MAX_ECHOED_BYTES,
    MAX_MESSAGE_BYTES,
    InvalidArgument,
    bounded,
    bounded_message,
)

LONG_NAMES = {
    "3 KB": "m" * 3_000,
    "10 KB": "m" * 10_000,
    "100 KB": "m" * 100_000,
    "3 KB of 2-byte characters": "é" * 3_000,
    "spaces inside": "a b " * 5_000,
}


def test_a_short_value_is_echoed_unchanged() -> None:
    assert bounded("gpt-4o") == "gpt-4o"
    assert bounded_message("Unknown model 'gpt-5'.") == "Unknown model 'gpt-5'."


def test_a_long_value_is_cut_and_says_how_long_it_was() -> None:
    cut = bounded("x" * 5_000)
    assert len(cut.encode()) <= MAX_ECHOED_BYTES
    assert cut.endswith("… (5000 characters)")


def test_a_long_value_inside_a_message_is_cut_and_the_rest_of_the_message_kept() -> None:
    message = bounded_message(f"Unknown model '{'x' * 50_000}'. Call ListModels.")
    assert message.startswith("Unknown model 'xxx")
    assert message.endswith("(50000 characters)'. Call ListModels.")
    assert len(message.encode()) <= MAX_MESSAGE_BYTES


def test_every_error_bounds_its_message_and_metadata() -> None:
    error = InvalidArgument("é" * 10_000, metadata={f"k{i}": "v" * 1_000 for i in range(50)})
    assert len(error.message.encode()) <= MAX_MESSAGE_BYTES
    assert len(error.metadata) <= 8
    assert all(len(value.encode()) <= MAX_ECHOED_BYTES for value in error.metadata.values())


@pytest.mark.parametrize("name", LONG_NAMES.values(), ids=LONG_NAMES.keys())
async def test_an_unknown_long_model_name_is_always_the_callers_invalid_argument(
    channel: grpc.aio.Channel, name: str
) -> None:
    stub = pb_grpc.CompletionServiceStub(channel)
    for _ in range(10):  # the old failure was random: try several times
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await stub.Complete(pb.CompleteRequest(message="Bonjour", model=name), timeout=10)
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        info = error_info(caught.value)
        assert info.reason == "UNKNOWN_MODEL"
        assert name.startswith(info.metadata["model"].split("…")[0])
        assert len(info.metadata["model"].encode()) <= MAX_ECHOED_BYTES


async def test_a_streamed_call_with_a_long_model_name_gets_the_same_error(
    channel: grpc.aio.Channel,
) -> None:
    stub = pb_grpc.CompletionServiceStub(channel)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        async for _ in stub.StreamCompletion(
            pb.StreamCompletionRequest(message="Bonjour", model="é" * 20_000), timeout=10
        ):
            pass
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "(20000 characters)" in caught.value.details()
