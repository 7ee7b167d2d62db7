"""Completions from the embedded local model, end to end through the gRPC server."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from routeur.v1 import (
    chat_pb2,
    model_service_pb2,
    model_service_pb2_grpc,
)
from routeur.v1 import (
    completion_service_pb2 as pb,
)
from routeur.v1 import (
    completion_service_pb2_grpc as pb_grpc,
)
from support import LOCAL_MODEL, error_info, trailing


@pytest.fixture(scope="module")
def completions(channel):
    return pb_grpc.CompletionServiceStub(channel)


async def test_list_models_shows_the_local_model(channel):
    stub = model_service_pb2_grpc.ModelServiceStub(channel)
    response = await stub.ListModels(model_service_pb2.ListModelsRequest())
    local = {model.name: model for model in response.models}[LOCAL_MODEL]
    assert local.provider == "local"
    assert local.supports_streaming and local.available
    assert local.context_window > 0
    assert response.total >= 1


async def test_get_model_by_name(channel):
    stub = model_service_pb2_grpc.ModelServiceStub(channel)
    response = await stub.GetModel(model_service_pb2.GetModelRequest(name=LOCAL_MODEL))
    assert response.model.name == LOCAL_MODEL


async def test_a_unary_completion_returns_text_and_real_usage(completions):
    response = await completions.Complete(
        pb.CompleteRequest(message="Say hello.", model=LOCAL_MODEL, max_tokens=12), timeout=120
    )
    assert response.response.strip()
    assert response.model == LOCAL_MODEL
    assert response.usage.prompt_tokens > 0
    assert 0 < response.usage.completion_tokens <= 12
    assert response.usage.total_tokens == (
        response.usage.prompt_tokens + response.usage.completion_tokens
    )
    assert response.metadata.message_count == 1
    assert response.metadata.latency_s > 0
    assert response.metadata.usage.output_tokens == response.usage.completion_tokens


async def test_history_is_sent_before_the_message(completions):
    history = [
        chat_pb2.ChatMessage(role="user", content="My name is Alice."),
        chat_pb2.ChatMessage(role="assistant", content="Hello Alice."),
    ]
    response = await completions.Complete(
        pb.CompleteRequest(
            message="What is my name?", model=LOCAL_MODEL, max_tokens=8,
            conversation_history=history,
        ),
        timeout=120,
    )
    assert response.metadata.message_count == 3


async def test_a_streamed_completion_sends_pieces_then_a_done_chunk_with_usage(completions):
    chunks = [
        chunk
        async for chunk in completions.StreamCompletion(
            pb.StreamCompletionRequest(message="Count to five.", model=LOCAL_MODEL, max_tokens=16),
            timeout=120,
        )
    ]
    *pieces, last = chunks
    assert pieces and all(not chunk.done for chunk in pieces)
    assert "".join(chunk.content for chunk in pieces).strip()
    assert all(chunk.metadata.model == LOCAL_MODEL for chunk in pieces)
    assert not pieces[0].metadata.HasField("latency_s"), "only the last chunk has accounting"
    assert last.done and last.content == "" and not last.HasField("error")
    assert last.metadata.usage.input_tokens > 0
    assert 0 < last.metadata.usage.output_tokens <= 16
    assert last.metadata.usage_by_model[LOCAL_MODEL].total_tokens == last.metadata.usage.total_tokens


async def test_cancelling_a_stream_stops_generation_and_the_server_stays_healthy(
    routeur, completions
):
    local_model = routeur.server.app.providers["local"]
    call = completions.StreamCompletion(
        pb.StreamCompletionRequest(message="Tell a long story.", model=LOCAL_MODEL, max_tokens=400),
        timeout=120,
    )
    received = 0
    async for _ in call:
        received += 1
        if received == 2:
            break
    call.cancel()
    for _ in range(200):  # the worker stops at its next token; allow for a loaded machine
        if local_model.generating == 0:
            break
        await asyncio.sleep(0.05)
    assert local_model.generating == 0
    response = await completions.Complete(
        pb.CompleteRequest(message="Hi", model=LOCAL_MODEL, max_tokens=4), timeout=120
    )
    assert response.usage.completion_tokens > 0


async def test_the_same_seed_gives_the_same_answer(completions):
    def ask(seed):
        return completions.Complete(
            pb.CompleteRequest(
                message="Tell me a story.", model=LOCAL_MODEL, max_tokens=24, temperature=1.5,
                seed=seed,
            ),
            timeout=120,
        )

    first, again, other = [(await ask(seed)).response for seed in (7, 7, 8)]
    assert first == again
    assert other != first


async def test_the_answer_ends_before_a_stop_sequence(completions):
    def ask(**fields):
        return completions.Complete(
            pb.CompleteRequest(
                message="Count from one to ten in words.", model=LOCAL_MODEL, max_tokens=40,
                temperature=0, **fields,
            ),
            timeout=120,
        )

    whole = (await ask()).response
    words = whole.split()
    assert len(words) > 3, whole
    stop = words[2]
    cut = await ask(stop=[stop, "never appears"])
    assert cut.response == whole[: whole.index(stop)]
    assert cut.usage.completion_tokens < (await ask()).usage.completion_tokens


async def test_a_streamed_answer_ends_before_a_stop_sequence_too(completions):
    request = pb.StreamCompletionRequest(
        message="Count from one to ten in words.", model=LOCAL_MODEL, max_tokens=40,
        temperature=0,
    )
    whole = "".join([c.content async for c in completions.StreamCompletion(request, timeout=120)])
    stop = whole.split()[2]
    request.stop.append(stop)
    chunks = [c async for c in completions.StreamCompletion(request, timeout=120)]
    assert "".join(c.content for c in chunks) == whole[: whole.index(stop)]
    assert chunks[-1].done


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"message": "", "model": LOCAL_MODEL}, "`message` is empty"),
        ({"message": "   ", "model": LOCAL_MODEL}, "`message` is empty"),
        ({"message": "hi", "model": LOCAL_MODEL, "temperature": 3}, "`temperature` is 3"),
        ({"message": "hi", "model": LOCAL_MODEL, "max_tokens": 0}, "`max_tokens` is 0"),
        ({"message": "hi", "model": LOCAL_MODEL, "stream": True}, "call StreamCompletion"),
        ({"message": "hi", "model": LOCAL_MODEL, "top_p": 1.5}, "`top_p` is 1.5"),
        (
            {"message": "hi", "model": LOCAL_MODEL, "presence_penalty": -3},
            "`presence_penalty` is -3",
        ),
        ({"message": "hi", "model": LOCAL_MODEL, "stop": list("abcde")}, "`stop` has 5"),
        ({"message": "hi", "model": LOCAL_MODEL, "stop": ["x", ""]}, "`stop[1]` is empty"),
        (
            {"message": "hi", "model": LOCAL_MODEL,
             "conversation_history": [chat_pb2.ChatMessage(role="robot", content="x")]},
            "`conversation_history[0].role` is 'robot'",
        ),
    ],
)
async def test_invalid_requests_are_refused_with_a_readable_reason(completions, fields, expected):
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await completions.Complete(pb.CompleteRequest(**fields), timeout=30)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert expected in caught.value.details()
    assert error_info(caught.value).domain == "routeur"


async def test_an_unknown_model_is_invalid_and_named(completions):
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await completions.Complete(pb.CompleteRequest(message="hi", model="gpt-17"), timeout=30)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "'gpt-17'" in caught.value.details() and LOCAL_MODEL in caught.value.details()
    info = error_info(caught.value)
    assert info.reason == "UNKNOWN_MODEL" and info.metadata["model"] == "gpt-17"


async def test_an_invalid_streamed_request_fails_before_any_chunk(completions):
    call = completions.StreamCompletion(pb.StreamCompletionRequest(message="", model=LOCAL_MODEL))
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        async for _ in call:
            pytest.fail("no chunk expected")
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_the_callers_request_id_comes_back_in_trailing_metadata(completions):
    call = completions.Complete(
        pb.CompleteRequest(message="", model=LOCAL_MODEL),
        metadata=(("x-request-id", "req-42.abc"),),
    )
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    assert trailing(caught.value, "x-request-id") == "req-42.abc"


async def test_a_request_id_is_made_up_when_absent_or_unacceptable(completions):
    call = completions.Complete(
        pb.CompleteRequest(message="Hi", model=LOCAL_MODEL, max_tokens=2),
        metadata=(("x-request-id", "bad id with spaces; " + "x" * 200),),
    )
    await call
    request_id = dict(await call.trailing_metadata())["x-request-id"]
    assert len(request_id) == 32 and request_id.isalnum()


async def test_an_unknown_agent_is_refused_naming_the_known_ones(completions):
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await completions.Complete(
            pb.CompleteRequest(message="hi", model=LOCAL_MODEL, agent="V9"), timeout=30
        )
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "'V9'" in caught.value.details() and "V1, V2" in caught.value.details()
