"""Agents through the real server, the router, the real SDKs and the fake upstreams.

Tokens come out of the graph one by one as the upstream sends them; every model call a graph
makes is accounted and the sums add up; a cancelled graph closes its upstream request and is
still recorded.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

import grpc
import pytest
from providers.conftest import EndToEnd
from routeur.v1 import completion_service_pb2 as pb
from routeur.v1 import completion_service_pb2_grpc as pb_grpc
from support import user_id_of

FRENCH_QUESTION = "Explique-moi la théorie de la relativité en deux phrases, et dis pourquoi elle est importante."
ENGLISH_REPLY = "The theory of relativity is about space and time, and it is what we use to explain gravity."


def stub(e2e: EndToEnd) -> pb_grpc.CompletionServiceStub:
    return pb_grpc.CompletionServiceStub(e2e.channel)


@pytest.mark.parametrize("agent", ["V1", "V2", ""])
async def test_an_agent_streams_each_upstream_token_as_it_comes(e2e: EndToEnd, agent: str) -> None:
    fake = e2e.fakes["openai"]
    fake.slow_next(0.02)
    arrivals: list[tuple[float, pb.StreamCompletionResponse]] = []
    async for chunk in stub(e2e).StreamCompletion(
        pb.StreamCompletionRequest(message="Say hello.", model="gpt-4o", agent=agent), timeout=10
    ):
        arrivals.append((time.monotonic(), chunk))
    *pieces, (_, last) = arrivals
    assert [chunk.content for _, chunk in pieces] == fake.words(), "one chunk per upstream token"
    assert all(c.metadata.agent == (agent or "V2") and c.metadata.model == "gpt-4o" for _, c in pieces)
    assert last.done and last.metadata.agent == (agent or "V2")
    assert pieces[-1][0] > pieces[0][0], "chunks arrived over time, not all at the end"


async def test_agents_send_a_system_prompt_before_the_conversation(e2e: EndToEnd) -> None:
    fake = e2e.fakes["mistral"]
    history = [pb_chat("user", "Comment faire une boucle en JavaScript?"),
               pb_chat("assistant", "for (let i = 0; i < 10; i++) {}")]
    response = await stub(e2e).Complete(
        pb.CompleteRequest(message="Et en Python?", model="mistral-large-latest", agent="V1",
                           conversation_history=history),
        timeout=10,
    )
    sent = fake.requests_to("/chat/completions")[-1].json()["messages"]
    assert [m["role"] for m in sent] == ["system", "user", "assistant", "user"]
    assert sent[-1]["content"] == "Et en Python?"
    assert response.agent == "V1"
    assert response.metadata.message_count == 3, "the caller's turns, not the agent's prompt"
    assert [s.name for s in response.metadata.steps] == ["prepare", "answer"]


async def test_v2_passing_its_check_costs_one_model_call(e2e: EndToEnd) -> None:
    fake = e2e.fakes["openai"]
    response = await stub(e2e).Complete(
        pb.CompleteRequest(message="Say hello.", model="gpt-4o", agent="V2"), timeout=10
    )
    assert len(fake.requests_to("/chat/completions")) == 1
    assert response.response == fake.reply_text
    assert [(s.name, s.detail) for s in response.metadata.steps][-1] == ("check", "passed")


async def test_v2_revises_a_wrong_language_answer_and_accounts_both_calls(e2e: EndToEnd) -> None:
    fake = e2e.fakes["openai"]
    fake.reply_text = ENGLISH_REPLY
    response = await stub(e2e).Complete(
        pb.CompleteRequest(message=FRENCH_QUESTION, model="gpt-4o", agent="V2"), timeout=10
    )
    calls = fake.requests_to("/chat/completions")
    assert len(calls) == 2, "the answer, then one revision"
    assert "in French" in calls[1].json()["messages"][-1]["content"]
    steps = [(s.name, s.detail) for s in response.metadata.steps]
    assert steps[2] == ("check", "wrong language (en, asked in fr)")
    assert steps[3][0] == "revise"
    assert response.response == ENGLISH_REPLY, "a whole answer is the revision alone"
    meta = response.metadata
    per_call = len(fake.words())
    assert meta.usage_by_model["gpt-4o"].output_tokens == 2 * per_call
    assert meta.usage.output_tokens == 2 * per_call
    assert meta.usage.input_tokens == 2 * type(fake).prompt_tokens
    assert (response.usage.completion_tokens, response.usage.prompt_tokens) == (
        meta.usage.output_tokens, meta.usage.input_tokens)
    assert meta.pricing.total_cost == pytest.approx(meta.pricing.by_model["gpt-4o"].total)
    assert meta.pricing.by_model["gpt-4o"].output > 0
    assert meta.emissions_gCO2eq == pytest.approx(meta.emissions_kgCO2eq * 1000)


async def test_a_streamed_revision_follows_the_first_answer(e2e: EndToEnd) -> None:
    fake = e2e.fakes["openai"]
    fake.reply_text = ENGLISH_REPLY
    chunks = [
        chunk
        async for chunk in stub(e2e).StreamCompletion(
            pb.StreamCompletionRequest(message=FRENCH_QUESTION, model="gpt-4o"), timeout=10
        )
    ]
    text = "".join(c.content for c in chunks)
    assert text == f"{ENGLISH_REPLY}\n\n{ENGLISH_REPLY}"
    assert chunks[-1].metadata.usage.output_tokens == 2 * len(fake.words())


async def test_a_fallback_inside_an_agent_is_accounted_per_model(e2e: EndToEnd) -> None:
    e2e.fakes["openai"].fail_next(500, times=3)
    response = await stub(e2e).Complete(
        pb.CompleteRequest(message="Say hello.", model="gpt-4o", agent="V2"), timeout=10
    )
    meta = response.metadata
    assert response.model == "mistral-large-latest" == meta.model
    assert set(meta.usage_by_model) == {"gpt-4o", "mistral-large-latest"}
    assert meta.usage_by_model["gpt-4o"].total_tokens == 0
    assert meta.usage.total_tokens == meta.usage_by_model["mistral-large-latest"].total_tokens


async def test_a_cancelled_agent_closes_its_upstream_call_and_is_recorded(e2e: EndToEnd) -> None:
    fake = e2e.fakes["mistral"]
    fake.reply_text = " ".join(["word"] * 200)
    fake.slow_next(0.05)
    call = stub(e2e).StreamCompletion(
        pb.StreamCompletionRequest(message="hi", model="mistral-large-latest", agent="V2"),
        timeout=10,
    )
    received = 0
    async for _ in call:
        received += 1
        if received == 2:
            break
    cancelled_at = time.monotonic()
    call.cancel()
    close = await fake.wait_client_close(timeout=2)
    assert close.at - cancelled_at < 1.0
    usage = e2e.server.server.app.store.usage
    today = datetime.now(UTC).date()
    owner = await user_id_of(e2e.server.address)  # the test's caller, the bootstrap admin
    for _ in range(200):
        total = await usage.total(owner, first_day=today, last_day=today)
        if total.requests:
            break
        await asyncio.sleep(0.01)
    assert total.requests == 1
    assert total.completion_tokens >= 2 and total.cost > 0


async def test_an_unknown_agent_is_invalid_argument_listing_the_agents(e2e: EndToEnd) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub(e2e).Complete(
            pb.CompleteRequest(message="hi", model="gpt-4o", agent="V3" * 200), timeout=10
        )
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "V1, V2" in caught.value.details()
    assert len(caught.value.details()) < 300, "the unknown name is not echoed whole"
    assert e2e.fakes["openai"].requests_to("/chat/completions") == []


def pb_chat(role: str, content: str):
    from routeur.v1 import chat_pb2

    return chat_pb2.ChatMessage(role=role, content=content)


async def test_an_agents_calls_are_recorded_as_one_request(e2e: EndToEnd) -> None:
    fake = e2e.fakes["openai"]
    fake.reply_text = ENGLISH_REPLY
    response = await stub(e2e).Complete(
        pb.CompleteRequest(message=FRENCH_QUESTION, model="gpt-4o", agent="V2"), timeout=10
    )
    assert len(fake.requests_to("/chat/completions")) == 2, "the answer and its revision"
    usage = e2e.server.server.app.store.usage
    today = datetime.now(UTC).date()
    owner = await user_id_of(e2e.server.address)  # the test's caller, the bootstrap admin
    for _ in range(200):
        total = await usage.total(owner, first_day=today, last_day=today)
        if total.requests:
            break
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.05)  # a second record, if any, would be there by now
    total = await usage.total(owner, first_day=today, last_day=today)
    assert total.requests == 1
    assert total.completion_tokens == response.metadata.usage.output_tokens == 2 * len(fake.words())
    assert [a.error_reason for a in response.metadata.attempts] == ["", ""], "one per call"


async def test_an_agents_fallback_says_so_on_every_piece(e2e: EndToEnd) -> None:
    e2e.fakes["openai"].fail_next(500, times=3)
    chunks = [
        chunk
        async for chunk in stub(e2e).StreamCompletion(
            pb.StreamCompletionRequest(message="Say hello.", model="gpt-4o", agent="V2"),
            timeout=10,
        )
    ]
    *pieces, last = chunks
    assert pieces and all(
        (c.metadata.model, c.metadata.requested_model, c.metadata.fallback_reason, c.metadata.agent)
        == ("mistral-large-latest", "gpt-4o", "UPSTREAM_UNAVAILABLE", "V2")
        for c in pieces
    )
    assert last.metadata.requested_model == "gpt-4o"
    assert last.metadata.fallback_reason == "UPSTREAM_UNAVAILABLE"
    assert [a.model for a in last.metadata.attempts] == [
        "gpt-4o", "gpt-4o", "gpt-4o", "mistral-large-latest"]


async def test_openai_compatible_chat_runs_the_model_alone(e2e: EndToEnd) -> None:
    from google.protobuf import struct_pb2
    from routeur.v1 import openai_compat_service_pb2 as openai_pb
    from routeur.v1 import openai_compat_service_pb2_grpc as openai_grpc

    fake = e2e.fakes["openai"]
    fake.reply_text = ENGLISH_REPLY  # would make V2 revise: it must not run
    question = openai_pb.OpenAIChatMessage(
        role="user", content=struct_pb2.Value(string_value=FRENCH_QUESTION)
    )
    response = await openai_grpc.OpenAICompatServiceStub(e2e.channel).CreateChatCompletion(
        openai_pb.CreateChatCompletionRequest(model="gpt-4o", messages=[question]), timeout=10
    )
    [call] = fake.requests_to("/chat/completions")
    assert call.json()["messages"] == [{"role": "user", "content": FRENCH_QUESTION}]
    assert response.choices[0].message.content == ENGLISH_REPLY
    streamed = openai_grpc.OpenAICompatServiceStub(e2e.channel).StreamChatCompletion(
        openai_pb.StreamChatCompletionRequest(model="gpt-4o", messages=[question]), timeout=10
    )
    assert [c async for c in streamed]
    assert fake.requests_to("/chat/completions")[-1].json()["messages"] == [
        {"role": "user", "content": FRENCH_QUESTION}
    ]
