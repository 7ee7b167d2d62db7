"""Bad upstream data, for every provider: the router answers with an upstream error, never
INTERNAL, never the caller's fault, never billed as a success.

The router runs over the real provider (its SDK) talking to its fake upstream, which is told
to send an event that is not JSON, half an event, an empty answer, or an SSE body where JSON
was asked for.
"""

from __future__ import annotations

import json
import socket
from types import SimpleNamespace
from typing import Any

import pytest
from fakes import FakeUpstream, Fault

from routeur_grpc.domain.completion import CompletionChunk, CompletionRequest, ToolSpec
from routeur_grpc.errors import DeadlineExceeded, RouteurError, Unavailable
from routeur_grpc.providers.token_count import TokenCounter
from routeur_grpc.routing.attempt_runner import UpstreamTimeouts
from routeur_grpc.routing.completion_record import CompletionRecord
from routeur_grpc.routing.retry import RetryPolicy
from routeur_grpc.routing.router import ModelRouter, RouterConfig

from .conftest import ProviderCase

#: Frames sent before the fault: at least one piece of text for every protocol.
MID_STREAM = 4


def router_for(
    case: ProviderCase,
    provider: Any,
    records: list[CompletionRecord],
    attempts: int = 1,
    first_token_s: float = 10.0,
    between_tokens_s: float = 10.0,
) -> ModelRouter:
    """A router over `provider`; timeouts generous unless the test is about them (a loaded
    machine may take a while to answer)."""
    return ModelRouter(
        [provider],
        {provider.name: case.id},
        RouterConfig(
            retry=RetryPolicy(max_attempts=attempts, initial_backoff_s=0.0, max_backoff_s=0.0),
            default_timeouts=UpstreamTimeouts(
                first_token_s=first_token_s, between_tokens_s=between_tokens_s
            ),
        ),
        token_counter=TokenCounter(),
        on_accounted=records.append,
    )


async def answer(router: ModelRouter, model: str, **options: Any) -> list[CompletionChunk]:
    request = CompletionRequest(message="Say hello.", model=model)
    return [chunk async for chunk in router.stream(request, **options)]


@pytest.mark.parametrize("fault", ["malformed", "broken"])
async def test_bad_data_mid_stream_ends_with_a_done_chunk_carrying_an_upstream_error(
    case: ProviderCase, upstream: FakeUpstream, provider: Any, fault: str
) -> None:
    upstream.garble_next(Fault(fault, after_frames=MID_STREAM))  # type: ignore[arg-type]
    records: list[CompletionRecord] = []
    *pieces, last = await answer(router_for(case, provider, records), case.model)
    assert pieces and all(not p.done for p in pieces)
    assert last.done and isinstance(last.error, Unavailable)
    assert last.error.reason.startswith("UPSTREAM_")
    assert case.id in last.error.message or provider.name in last.error.message
    (record,) = records
    assert record.outcome == "failed"
    assert record.metadata.usage.completion_tokens > 0  # what came through is accounted


@pytest.mark.parametrize("unary", [False, True], ids=["streamed", "unary"])
async def test_an_empty_answer_is_an_upstream_error_never_billed(
    case: ProviderCase, upstream: FakeUpstream, provider: Any, unary: bool
) -> None:
    upstream.always(Fault("empty"))
    records: list[CompletionRecord] = []
    with pytest.raises(Unavailable) as caught:
        await answer(router_for(case, provider, records), case.model, prefer_unary=unary)
    # Some SDKs already refuse `{}` as not their protocol: malformed rather than empty.
    assert caught.value.reason in ("UPSTREAM_EMPTY_RESPONSE", "UPSTREAM_MALFORMED_RESPONSE")
    assert caught.value.retryable
    (record,) = records
    assert record.outcome == "failed"
    assert record.metadata.usage.total_tokens == 0
    assert record.metadata.pricing is not None and record.metadata.pricing.total_cost == 0


async def test_chunks_without_choices_are_an_empty_answer(
    fake_openai: FakeUpstream, token_counter: TokenCounter
) -> None:
    from .conftest import PROVIDER_CASES

    case = PROVIDER_CASES[0]
    provider = case.build(fake_openai, token_counter)
    fake_openai.always(Fault("empty", variant="no_choices"))
    with pytest.raises(Unavailable) as caught:
        await answer(router_for(case, provider, []), case.model)
    assert caught.value.reason == "UPSTREAM_EMPTY_RESPONSE"
    await provider.aclose()


async def test_an_empty_answer_is_retried_before_the_first_token(
    case: ProviderCase, upstream: FakeUpstream, provider: Any
) -> None:
    upstream.garble_next(Fault("empty"))
    records: list[CompletionRecord] = []
    *pieces, last = await answer(router_for(case, provider, records, attempts=2), case.model)
    assert "".join(p.content for p in pieces) == upstream.reply_text
    assert last.error is None and records[-1].outcome == "completed"
    assert len(upstream.requests) == 2


@pytest.mark.parametrize("fault", ["stream_body", "content_type", "malformed"])
async def test_a_non_streamed_call_answered_with_the_wrong_body_is_an_upstream_error(
    case: ProviderCase, upstream: FakeUpstream, provider: Any, fault: str
) -> None:
    upstream.always(Fault(fault))  # type: ignore[arg-type]
    records: list[CompletionRecord] = []
    with pytest.raises(RouteurError) as caught:
        await answer(router_for(case, provider, records), case.model, prefer_unary=True)
    assert isinstance(caught.value, Unavailable), caught.value
    assert caught.value.reason.startswith("UPSTREAM_")
    assert records[-1].outcome == "failed"


@pytest.mark.parametrize("fault", ["hang", "trickle"])
async def test_an_upstream_that_sends_no_text_in_time_is_abandoned_and_retried(
    case: ProviderCase, upstream: FakeUpstream, provider: Any, fault: str
) -> None:
    upstream.always(Fault(fault, delay_s=0.05))  # type: ignore[arg-type]
    with pytest.raises(DeadlineExceeded) as caught:
        await answer(router_for(case, provider, [], attempts=2, first_token_s=0.5), case.model)
    assert caught.value.reason == "UPSTREAM_TIMEOUT"
    assert len(upstream.requests) == 2
    await upstream.wait_client_close(timeout=2)  # the hung request was closed


async def test_a_stream_that_stalls_mid_answer_ends_with_an_upstream_timeout(
    case: ProviderCase, upstream: FakeUpstream, provider: Any
) -> None:
    upstream.reply_text = " ".join(["word"] * 20)
    # Longer than the between-tokens timeout (0.5 s), once text has started.
    upstream.garble_next(Fault("stall", after_frames=MID_STREAM, delay_s=0.7))
    records: list[CompletionRecord] = []
    # A generous first-token timeout: only the silence after text is under test.
    chunks = await answer(router_for(case, provider, records, between_tokens_s=0.5), case.model)
    last = chunks[-1]
    assert last.done and isinstance(last.error, DeadlineExceeded)
    assert last.error.reason == "UPSTREAM_TIMEOUT"
    assert records[-1].outcome == "failed"


#: The providers whose protocol carries tool calls (agents offer tools to these only).
TOOL_CALLING = ("openai", "mistral", "anthropic", "gemini")
CALCULATOR = ToolSpec(
    "calculator",
    "Evaluates an arithmetic expression.",
    {"type": "object", "properties": {"expression": {"type": "string"}}},
)


async def test_a_tool_call_stream_broken_anywhere_never_reports_a_partial_call(
    case: ProviderCase, upstream: FakeUpstream, provider: Any
) -> None:
    if case.id not in TOOL_CALLING:
        pytest.skip(f"{case.id} has no tool calls here")
    upstream.tool_call = ("calculator", {"expression": "(17 + 25) * 3"})
    request = CompletionRequest(message="How much?", model=case.model, tools=(CALCULATOR,))
    outcomes: set[str] = set()
    for frames_before in range(12):
        upstream.garble_next(Fault("broken", after_frames=frames_before))
        records: list[CompletionRecord] = []
        try:
            chunks = [c async for c in router_for(case, provider, records).stream(request)]
        except Unavailable as error:  # before the first piece: raised, nothing relayed
            assert error.reason.startswith("UPSTREAM_"), error.reason
            assert records[-1].outcome == "failed"
            outcomes.add("unavailable")
            continue
        *pieces, last = chunks
        calls = [call for piece in pieces for call in piece.tool_calls]
        if last.error is not None:  # text had been relayed before the break
            assert last.error.reason.startswith("UPSTREAM_")
        else:
            assert [(c.name, json.loads(c.arguments)) for c in calls] == [
                ("calculator", {"expression": "(17 + 25) * 3"})
            ], "a call is reported whole, or not at all"
            assert records[-1].outcome == "completed"
            outcomes.add("whole")
    assert "unavailable" in outcomes, "some break fell inside the call"


async def test_a_tool_call_alone_is_an_answer_not_an_empty_one(
    case: ProviderCase, upstream: FakeUpstream, provider: Any
) -> None:
    if case.id not in TOOL_CALLING:
        pytest.skip(f"{case.id} has no tool calls here")
    upstream.tool_call = ("calculator", {"expression": "6 * 7"})
    request = CompletionRequest(message="How much?", model=case.model, tools=(CALCULATOR,))
    records: list[CompletionRecord] = []
    *pieces, last = [c async for c in router_for(case, provider, records).stream(request)]
    assert [call.name for piece in pieces for call in piece.tool_calls] == ["calculator"]
    assert last.done and last.error is None
    assert records[-1].outcome == "completed"


async def test_an_upstream_that_refuses_the_connection_is_unreachable_not_slow(
    case: ProviderCase, token_counter: TokenCounter
) -> None:
    with socket.socket() as bound:  # bound, never listening: every connection is refused
        bound.bind(("127.0.0.1", 0))
        closed = SimpleNamespace(url=f"http://127.0.0.1:{bound.getsockname()[1]}")
        provider = case.build(closed, token_counter)
        records: list[CompletionRecord] = []
        try:
            with pytest.raises(Unavailable) as caught:
                await answer(router_for(case, provider, records), case.model)
        finally:
            await provider.aclose()
    assert caught.value.reason == "UPSTREAM_UNAVAILABLE"
    assert "could not be reached" in caught.value.message
    (record,) = records
    assert record.outcome == "failed"
