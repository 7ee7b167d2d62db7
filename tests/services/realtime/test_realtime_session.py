"""RealtimeService.RunSession over gRPC, against a fake OpenAI upstream.

A session starts with its ids, answers pings, streams each reply and ends it with a `done`
carrying the same accounting as a completion; the conversation is kept between messages;
a cancel stops the reply and the upstream call; one reply runs at a time; a failure ends
one reply, not the session; idle sessions are closed; a caller's sessions are capped.
"""

from __future__ import annotations

import asyncio

import grpc
import pytest
from fakes import FakeOpenAI
from openai_backed import MODEL, recorded_usage, start_openai_backed_server
from routeur.v1 import conversation_service_pb2 as conversation_pb
from routeur.v1 import conversation_service_pb2_grpc as conversation_grpc
from support import RunningServer, error_info, open_channel

from .realtime_client import SESSION_CAP, SessionClient


async def test_a_session_starts_with_its_ids_and_answers_pings(open_session) -> None:
    session: SessionClient = open_session()
    started = await session.started()
    assert started.session_id and started.conversation_id
    await session.ping("n-1")
    await session.ping("n-2")
    assert (await session.next()).pong.nonce == "n-1"
    assert (await session.next()).pong.nonce == "n-2"
    await session.close()


async def test_a_message_is_answered_piece_by_piece_and_accounted(
    realtime_server: RunningServer, open_session, fake_openai: FakeOpenAI
) -> None:
    before = await recorded_usage(realtime_server)
    session: SessionClient = open_session()
    await session.started()
    await session.say("Hello there", message_id="m-1")
    text, done, deltas = await session.reply()
    assert text == fake_openai.reply_text
    # Streamed: the first word alone, the words that arrived together joined behind it.
    assert 2 <= deltas <= len(fake_openai.reply_text.split(" "))
    assert done.message_id == "m-1"
    assert not done.cancelled and not done.HasField("error")
    metadata = done.metadata
    assert metadata.model == MODEL
    assert metadata.usage.input_tokens == FakeOpenAI.prompt_tokens
    assert metadata.usage.output_tokens == len(fake_openai.reply_text.split(" "))
    assert metadata.usage_by_model[MODEL].total_tokens == metadata.usage.total_tokens
    assert metadata.pricing.total_cost > 0
    assert metadata.emissions_kgCO2eq > 0
    assert metadata.latency_s > 0
    await session.close()
    for _ in range(200):  # usage is written in the background
        after = await recorded_usage(realtime_server)
        if after[0] > before[0]:
            break
        await asyncio.sleep(0.02)
    assert after[0] == before[0] + 1


async def test_the_conversation_is_kept_between_messages(
    realtime_channel: grpc.aio.Channel, open_session, fake_openai: FakeOpenAI
) -> None:
    session: SessionClient = open_session()
    started = await session.started()
    fake_openai.reply_next("Nice to meet you, Ada.", "Your name is Ada.")
    await session.say("My name is Ada.")
    assert (await session.reply())[0] == "Nice to meet you, Ada."
    await session.say("What is my name?")
    assert (await session.reply())[0] == "Your name is Ada."
    second = fake_openai.requests_to("/chat/completions")[-1].json()
    # The agent's own system prompt comes first; the conversation follows it.
    assert [m["content"] for m in second["messages"] if m["role"] != "system"] == [
        "My name is Ada.", "Nice to meet you, Ada.", "What is my name?"
    ]
    stored = await conversation_grpc.ConversationServiceStub(realtime_channel).GetConversation(
        conversation_pb.GetConversationRequest(conversation_id=started.conversation_id)
    )
    assert [m.role for m in stored.conversation.messages] == [
        "user", "assistant", "user", "assistant"
    ]
    await session.close()


async def test_a_message_without_a_model_uses_the_default_one(
    open_session, fake_openai: FakeOpenAI
) -> None:
    session: SessionClient = open_session()
    await session.started()
    await session.say("Hi")
    _, done, _ = await session.reply()
    assert done.metadata.model == MODEL
    assert done.message_id  # made up by the server
    assert fake_openai.requests_to("/chat/completions")[-1].json()["model"] == MODEL
    await session.close()


async def test_cancel_stops_the_reply_and_the_upstream_call(
    open_session, fake_openai: FakeOpenAI
) -> None:
    fake_openai.reply_text = " ".join(f"word{i}" for i in range(200))
    fake_openai.stream_delay_s = 0.05
    session: SessionClient = open_session()
    await session.started()
    await session.say("Tell me a long story", message_id="long")
    first = await session.next()
    assert first.WhichOneof("event") == "delta"
    await session.cancel("long")
    _, done, deltas = await session.reply()
    assert done.message_id == "long" and done.cancelled
    assert deltas < 199
    close = await fake_openai.wait_client_close(timeout=10)
    assert close.path.endswith("/chat/completions")
    # The session goes on.
    fake_openai.reply_text = "Short."
    fake_openai.stream_delay_s = 0.0
    await session.say("Something short")
    text, done, _ = await session.reply()
    assert text == "Short." and not done.cancelled
    await session.close()


async def test_cancel_without_an_id_stops_whichever_reply_runs(
    open_session, fake_openai: FakeOpenAI
) -> None:
    fake_openai.reply_text = " ".join(f"word{i}" for i in range(200))
    fake_openai.stream_delay_s = 0.05
    session: SessionClient = open_session()
    await session.started()
    await session.say("Go on")
    await session.next()
    await session.cancel()
    _, done, _ = await session.reply()
    assert done.cancelled
    await session.cancel()  # nothing runs: a harmless no-op
    await session.ping("still here")
    assert (await session.next()).pong.nonce == "still here"
    await session.close()


async def test_a_second_message_during_a_reply_is_refused_and_the_first_goes_on(
    open_session, fake_openai: FakeOpenAI
) -> None:
    fake_openai.reply_text = " ".join(f"w{i}" for i in range(20))
    fake_openai.stream_delay_s = 0.02
    session: SessionClient = open_session()
    await session.started()
    await session.say("First", message_id="one")
    await session.say("Second", message_id="two")
    refused = None
    parts: list[str] = []
    while True:
        event = await session.next()
        if event.WhichOneof("event") == "delta":
            parts.append(event.delta.content)
        elif event.done.message_id == "two":
            refused = event.done
        else:
            done = event.done
            break
    assert refused is not None
    assert refused.error.code == grpc.StatusCode.FAILED_PRECONDITION.value[0]
    assert "cancel" in refused.error.message
    assert done.message_id == "one" and not done.HasField("error")
    assert "".join(parts) == fake_openai.reply_text
    await session.close()


async def test_a_failed_reply_ends_with_its_error_and_the_session_goes_on(
    open_session, fake_openai: FakeOpenAI
) -> None:
    session: SessionClient = open_session()
    await session.started()
    await session.say("   ", message_id="empty")
    _, done, _ = await session.reply()
    assert done.error.code == grpc.StatusCode.INVALID_ARGUMENT.value[0]
    assert "`message` is empty" in done.error.message
    await session.say("Hello", message_id="unknown", model="no-such-model")
    _, done, _ = await session.reply()
    assert done.error.code == grpc.StatusCode.INVALID_ARGUMENT.value[0]
    fake_openai.fail_next(500)
    await session.say("Hello", message_id="upstream")
    _, done, _ = await session.reply()
    assert done.error.code == grpc.StatusCode.UNAVAILABLE.value[0]
    await session.say("Hello again", message_id="fine")
    text, done, _ = await session.reply()
    assert text == fake_openai.reply_text and not done.HasField("error")
    await session.close()


async def test_ending_our_side_lets_the_running_reply_finish(
    open_session, fake_openai: FakeOpenAI
) -> None:
    session: SessionClient = open_session()
    await session.started()
    await session.say("Hello", message_id="last")
    await session.call.done_writing()
    text, done, _ = await session.reply()
    assert text == fake_openai.reply_text and done.message_id == "last"
    assert await session.call.read() is grpc.aio.EOF
    assert await session.call.code() == grpc.StatusCode.OK


async def test_a_caller_may_hold_only_so_many_sessions(
    realtime_channel: grpc.aio.Channel, open_session
) -> None:
    sessions = [open_session() for _ in range(SESSION_CAP)]
    for session in sessions:
        await session.started()
    extra: SessionClient = open_session()
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await extra.started()
    assert raised.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert error_info(raised.value).reason == "TOO_MANY_SESSIONS"
    assert "close one" in raised.value.details()
    await sessions[0].close()
    again: SessionClient = open_session()
    await again.started()
    for session in [*sessions[1:], again]:
        await session.close()


async def test_an_idle_session_is_closed(
    tmp_path_factory: pytest.TempPathFactory, openai_upstream: FakeOpenAI
) -> None:
    running = await start_openai_backed_server(
        tmp_path_factory.mktemp("realtime-idle"), openai_upstream, realtime_idle_timeout_s=0.3
    )
    try:
        async with open_channel(running.address) as channel:
            session = SessionClient(channel)
            await session.started()
            with pytest.raises(grpc.aio.AioRpcError) as raised:
                await session.next()
            assert raised.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
            assert error_info(raised.value).reason == "SESSION_IDLE"
            assert "idle" in raised.value.details()
    finally:
        await running.server.stop(grace=0.5)
