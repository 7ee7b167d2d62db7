"""Rate limits and budgets on completions, through the real server (and Redis for two)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import grpc
import pytest
from fakes import FakeOpenAI
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from routeur.v1 import completion_service_pb2 as pb
from routeur.v1 import completion_service_pb2_grpc as pb_grpc
from support import error_info, open_channel, start_server, user_id_of

from .conftest import limited_settings

MODEL = "gpt-4o-mini"
PRICED_MODEL = "gpt-4o"
LONG_REPLY = " ".join(f"word{i}" for i in range(300))


def quota_failure(error: grpc.aio.AioRpcError) -> error_details_pb2.QuotaFailure:
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    assert status is not None
    for detail in status.details:
        if detail.Is(error_details_pb2.QuotaFailure.DESCRIPTOR):
            failure = error_details_pb2.QuotaFailure()
            detail.Unpack(failure)
            return failure
    raise AssertionError("no QuotaFailure detail")


def retry_delay_s(error: grpc.aio.AioRpcError) -> float:
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    assert status is not None
    for detail in status.details:
        if detail.Is(error_details_pb2.RetryInfo.DESCRIPTOR):
            info = error_details_pb2.RetryInfo()
            detail.Unpack(info)
            return info.retry_delay.seconds + info.retry_delay.nanos / 1e9
    raise AssertionError("no RetryInfo detail")


async def _complete(stub: pb_grpc.CompletionServiceStub, **fields: object):  # type: ignore[no-untyped-def]
    call = stub.Complete(pb.CompleteRequest(message="Bonjour", model=MODEL, **fields))
    try:
        response = await call
    except grpc.aio.AioRpcError as error:
        return error
    return response, dict(await call.initial_metadata())


async def test_fifty_concurrent_requests_admit_exactly_the_limit(
    tmp_path: Path, fake_openai: FakeOpenAI
):
    running = await start_server(limited_settings(tmp_path, fake_openai, rate_limit_rpm=10))
    try:
        async with open_channel(running.address) as channel:
            stub = pb_grpc.CompletionServiceStub(channel)
            outcomes = await asyncio.gather(*(_complete(stub) for _ in range(50)))
        owner = await user_id_of(running.address)
    finally:
        await running.server.stop(0.5)
    served = [o for o in outcomes if isinstance(o, tuple)]
    refused = [o for o in outcomes if isinstance(o, grpc.aio.AioRpcError)]
    assert len(served) == 10 and len(refused) == 40
    assert len(fake_openai.requests_to("/chat/completions")) == 10
    for error in refused:
        assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert error_info(error).reason == "RATE_LIMITED"
        assert 0 < retry_delay_s(error) <= 60
        assert quota_failure(error).violations[0].subject == f"user:{owner}"
        trailers = dict(error.trailing_metadata() or ())
        assert trailers["x-ratelimit-limit-requests"] == "10"
        assert trailers["x-ratelimit-remaining-requests"] == "0"
        assert 0 < int(trailers["retry-after"]) <= 60
    remaining = sorted(int(headers["x-ratelimit-remaining-requests"]) for _, headers in served)
    assert remaining == list(range(10))
    assert all(headers["x-ratelimit-limit-requests"] == "10" for _, headers in served)


async def test_tokens_are_reserved_before_the_call_and_settled_to_the_real_count(
    tmp_path: Path, fake_openai: FakeOpenAI
):
    running = await start_server(limited_settings(tmp_path, fake_openai, rate_limit_tpm=1000))
    try:
        async with open_channel(running.address) as channel:
            stub = pb_grpc.CompletionServiceStub(channel)
            too_big = await _complete(stub, max_tokens=1000)
            assert isinstance(too_big, grpc.aio.AioRpcError)
            assert too_big.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
            assert "lower max_tokens" in too_big.details()
            assert fake_openai.requests_to("/chat/completions") == []  # refused before the call

            first = await _complete(stub, max_tokens=500)
            second = await _complete(stub, max_tokens=500)
    finally:
        await running.server.stop(0.5)
    assert isinstance(first, tuple) and isinstance(second, tuple)
    response, headers = first
    # While it ran, prompt + max_tokens were reserved...
    assert int(headers["x-ratelimit-remaining-tokens"]) < 500
    # ...then settled to what the fake reported, so the next request fits.
    used = response.usage.total_tokens
    assert used == FakeOpenAI.prompt_tokens + len(fake_openai.words())
    # The second reserved as much as the first: the difference is what the first really used.
    remaining_first = int(headers["x-ratelimit-remaining-tokens"])
    assert remaining_first - int(second[1]["x-ratelimit-remaining-tokens"]) == used


async def test_a_stream_crossing_the_token_limit_stops_with_a_last_chunk_error(
    tmp_path: Path, fake_openai: FakeOpenAI
):
    fake_openai.reply_text = LONG_REPLY
    fake_openai.stream_delay_s = 0.01  # so that the answer is still streaming when stopped
    running = await start_server(
        limited_settings(tmp_path, fake_openai, rate_limit_tpm=100, rate_limit_reserve_tokens=20)
    )
    try:
        async with open_channel(running.address) as channel:
            stub = pb_grpc.CompletionServiceStub(channel)
            chunks = [
                chunk
                async for chunk in stub.StreamCompletion(
                    pb.StreamCompletionRequest(message="Raconte", model=MODEL)
                )
            ]
            await fake_openai.wait_client_close()
    finally:
        await running.server.stop(0.5)
    *content, last = chunks
    assert content and all(not chunk.done for chunk in content)
    assert last.done and last.error.code == grpc.StatusCode.RESOURCE_EXHAUSTED.value[0]
    assert "stopped" in last.error.message
    text = "".join(chunk.content for chunk in content)
    assert 0 < len(text) < len(LONG_REPLY)


async def test_a_budget_reached_mid_stream_stops_the_stream_cleanly(
    tmp_path: Path, fake_openai: FakeOpenAI
):
    fake_openai.reply_text = LONG_REPLY
    fake_openai.stream_delay_s = 0.01  # so that the answer is still streaming when stopped
    running = await start_server(
        limited_settings(tmp_path, fake_openai, budget_amount=0.0005, rate_limit_reserve_tokens=8)
    )
    try:
        async with open_channel(running.address) as channel:
            stub = pb_grpc.CompletionServiceStub(channel)
            request = pb.StreamCompletionRequest(message="Raconte", model=PRICED_MODEL)
            chunks = [chunk async for chunk in stub.StreamCompletion(request)]
            await fake_openai.wait_client_close()
            # What was delivered is spent: the next request finds less room, not a reset.
            again = [chunk async for chunk in stub.StreamCompletion(request)]
    finally:
        await running.server.stop(0.5)
    *content, last = chunks
    assert content and last.done
    assert last.error.code == grpc.StatusCode.RESOURCE_EXHAUSTED.value[0]
    info = error_details_pb2.ErrorInfo()
    assert last.error.details[0].Unpack(info) and info.reason == "BUDGET_EXCEEDED"
    assert last.metadata.usage.output_tokens > 0
    assert again[-1].done and again[-1].error.code == grpc.StatusCode.RESOURCE_EXHAUSTED.value[0]


@pytest.mark.slow
async def test_two_instances_sharing_redis_admit_exactly_the_limit(
    tmp_path: Path, fake_openai: FakeOpenAI, redis_url: str
):
    from routeur_grpc.limits.redis_store import RedisCounters

    cleaner = RedisCounters(redis_url)
    await cleaner._client.flushdb()  # type: ignore[attr-defined]
    await cleaner.aclose()
    # Two instances of one deployment: one store (so one user, one key), one Redis.
    shared = tmp_path / "shared"
    a = await start_server(
        limited_settings(shared, fake_openai, rate_limit_rpm=10, redis_url=redis_url)
    )
    b = await start_server(
        limited_settings(shared, fake_openai, rate_limit_rpm=10, redis_url=redis_url)
    )
    try:
        async with open_channel(a.address) as one, open_channel(b.address) as two:
            stubs = [pb_grpc.CompletionServiceStub(one), pb_grpc.CompletionServiceStub(two)]
            outcomes = await asyncio.gather(*(_complete(stubs[i % 2]) for i in range(50)))
    finally:
        await a.server.stop(0.5)
        await b.server.stop(0.5)
    served = [o for o in outcomes if isinstance(o, tuple)]
    assert len(served) == 10
    assert len(fake_openai.requests_to("/chat/completions")) == 10
    assert sorted(int(h["x-ratelimit-remaining-requests"]) for _, h in served) == list(range(10))


async def test_unreachable_redis_fails_closed_with_a_clear_error(
    tmp_path: Path, fake_openai: FakeOpenAI
):
    running = await start_server(
        limited_settings(
            tmp_path, fake_openai, rate_limit_rpm=10, redis_url="redis://127.0.0.1:1/0"
        )
    )
    try:
        async with open_channel(running.address) as channel:
            error = await _complete(pb_grpc.CompletionServiceStub(channel))
    finally:
        await running.server.stop(0.5)
    assert isinstance(error, grpc.aio.AioRpcError)
    assert error.code() == grpc.StatusCode.UNAVAILABLE
    assert "Redis" in error.details() and "127.0.0.1" not in error.details()


async def test_unreachable_redis_can_fail_open(tmp_path: Path, fake_openai: FakeOpenAI):
    running = await start_server(
        limited_settings(
            tmp_path,
            fake_openai,
            rate_limit_rpm=10,
            redis_url="redis://127.0.0.1:1/0",
            rate_limit_fail_open=True,
        )
    )
    try:
        async with open_channel(running.address) as channel:
            outcome = await _complete(pb_grpc.CompletionServiceStub(channel))
    finally:
        await running.server.stop(0.5)
    assert isinstance(outcome, tuple)


async def test_a_fallback_answer_carries_both_the_fallback_and_the_quota_headers(
    tmp_path: Path, fake_openai: FakeOpenAI
):
    running = await start_server(limited_settings(tmp_path, fake_openai, rate_limit_rpm=100))
    try:
        async with open_channel(running.address) as channel:
            stub = pb_grpc.CompletionServiceStub(channel)
            asked = {"message": "Bonjour", "model": "claude-sonnet-4-5", "allow_fallback": True}
            call = stub.Complete(pb.CompleteRequest(**asked))
            response = await call
            assert response.metadata.requested_model == "claude-sonnet-4-5"
            headers = dict(await call.initial_metadata())
            assert headers["x-routeur-requested-model"] == "claude-sonnet-4-5"
            assert headers["x-ratelimit-limit-requests"] == "100"

            stream = stub.StreamCompletion(pb.StreamCompletionRequest(**asked))
            pieces = [piece async for piece in stream]
            assert pieces[-1].done and not pieces[-1].HasField("error")
            headers = dict(await stream.initial_metadata())
            assert headers["x-routeur-fallback-reason"] == "MODEL_NOT_CONFIGURED"
            assert headers["x-ratelimit-limit-requests"] == "100"
    finally:
        await running.server.stop(0.5)
