"""Every provider through its real SDK against its fake upstream: answers, usage, errors, closing."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from fakes import FakeOpenAI, FakeUpstream

from routeur_grpc.domain.completion import ChatMessage
from routeur_grpc.errors import (
    DeadlineExceeded,
    FailedPrecondition,
    InvalidArgument,
    ResourceExhausted,
    Unavailable,
)
from routeur_grpc.providers.anthropic_messages import AnthropicMessagesProvider
from routeur_grpc.providers.base import ChatProvider, ChatRequest, TextDelta, UsageReport
from routeur_grpc.providers.gemini import GeminiProvider
from routeur_grpc.providers.mistral import MistralProvider
from routeur_grpc.providers.openai_chat import OpenAIChatProvider, openai_compatible
from routeur_grpc.providers.token_count import TokenCounter
from routeur_grpc.providers.unary import UnaryChatProvider
from routeur_grpc.providers.upstream_errors import (
    REASON_CONTEXT_TOO_LONG,
    REASON_CREDENTIALS,
    REASON_MODEL_NOT_FOUND,
    retry_after_seconds,
)

from .conftest import ProviderCase
from .streams import collect

MESSAGES = (ChatMessage("system", "Be brief."), ChatMessage("user", "Say hello."))


def request_for(case: ProviderCase, **overrides: Any) -> ChatRequest:
    return ChatRequest(model=case.model, messages=MESSAGES, **overrides)


async def test_implements_the_interfaces(provider: Any) -> None:
    assert isinstance(provider, ChatProvider)
    assert isinstance(provider, UnaryChatProvider)


async def test_streams_text_then_usage_from_the_upstream(
    case: ProviderCase, provider: Any, upstream: FakeUpstream
) -> None:
    events = [event async for event in provider.stream_chat(request_for(case, temperature=0.2))]
    deltas = [e for e in events if isinstance(e, TextDelta)]
    assert len(deltas) > 1, "the answer should arrive in several pieces"
    assert "".join(d.text for d in deltas) == upstream.reply_text
    assert events[-1] == UsageReport(type(upstream).prompt_tokens, len(upstream.words()))
    assert sum(isinstance(e, UsageReport) for e in events) == 1


async def test_unary_call_uses_the_non_streamed_endpoint(
    case: ProviderCase, provider: Any, upstream: FakeUpstream
) -> None:
    result = await provider.complete_chat(request_for(case, max_tokens=50))
    assert result.text == upstream.reply_text
    assert result.usage == UsageReport(type(upstream).prompt_tokens, len(upstream.words()))
    assert len(upstream.requests) == 1


async def test_collect_gives_the_same_answer_as_unary(case: ProviderCase, provider: Any) -> None:
    streamed = await collect(provider.stream_chat(request_for(case)))
    unary = await provider.complete_chat(request_for(case))
    assert streamed == unary


async def test_lists_models(case: ProviderCase, provider: Any) -> None:
    names = [model.name for model in await provider.list_models()]
    assert case.model in names


async def test_rate_limit_maps_to_resource_exhausted_with_retry_after(
    case: ProviderCase, provider: Any, upstream: FakeUpstream
) -> None:
    upstream.fail_next(429, retry_after="7")
    with pytest.raises(ResourceExhausted) as caught:
        await collect(provider.stream_chat(request_for(case)))
    assert caught.value.retry_after_s == 7
    assert caught.value.retryable
    assert case.id in caught.value.message
    assert len(upstream.requests) == 1, "the SDK must not retry on its own"


@pytest.mark.parametrize("status", [500, 503])
async def test_server_errors_map_to_unavailable_without_sdk_retries(
    case: ProviderCase, provider: Any, upstream: FakeUpstream, status: int
) -> None:
    upstream.fail_next(status)
    with pytest.raises(Unavailable):
        await collect(provider.stream_chat(request_for(case)))
    assert len(upstream.requests) == 1


async def test_bad_request_maps_to_invalid_argument(
    case: ProviderCase, provider: Any, upstream: FakeUpstream
) -> None:
    upstream.fail_next(400)
    with pytest.raises(InvalidArgument) as caught:
        await provider.complete_chat(request_for(case))
    assert not caught.value.retryable


@pytest.mark.parametrize("status", [401, 403])
async def test_rejected_credentials_are_an_operator_problem(
    case: ProviderCase, provider: Any, upstream: FakeUpstream, status: int
) -> None:
    upstream.fail_next(status)
    with pytest.raises(FailedPrecondition) as caught:
        await collect(provider.stream_chat(request_for(case)))
    assert caught.value.reason == REASON_CREDENTIALS
    assert "operator" in caught.value.message
    assert "test" not in caught.value.message and "sk-" not in caught.value.message


async def test_unknown_upstream_model_is_a_failed_precondition(
    case: ProviderCase, provider: Any, upstream: FakeUpstream
) -> None:
    upstream.fail_next(404)
    with pytest.raises(FailedPrecondition) as caught:
        await collect(provider.stream_chat(request_for(case)))
    assert caught.value.reason == REASON_MODEL_NOT_FOUND
    assert case.model in caught.value.message


async def test_connection_dropped_mid_stream_is_unavailable(
    case: ProviderCase, provider: Any, upstream: FakeUpstream
) -> None:
    upstream.drop_next(after_frames=4)
    received: list[str] = []
    with pytest.raises(Unavailable):
        async for event in provider.stream_chat(request_for(case)):
            if isinstance(event, TextDelta):
                received.append(event.text)
    assert received, "some text came before the cut"


async def test_upstream_that_hangs_times_out(
    case: ProviderCase, upstream: FakeUpstream, token_counter: TokenCounter
) -> None:
    provider = case.build(upstream, token_counter, timeout_s=0.3)
    try:
        upstream.hang_next()
        with pytest.raises(DeadlineExceeded):
            await collect(provider.stream_chat(request_for(case)))
        close = await upstream.wait_client_close(timeout=2)
        assert close.mid_response
    finally:
        await provider.aclose()


async def test_closing_the_stream_closes_the_upstream_connection(
    case: ProviderCase, provider: Any, upstream: FakeUpstream
) -> None:
    upstream.reply_text = " ".join(["word"] * 200)  # 10 s at this pace
    upstream.slow_next(0.05)
    stream = provider.stream_chat(request_for(case))
    async for event in stream:
        if isinstance(event, TextDelta):
            break
    closed_at = time.monotonic()
    await stream.aclose()
    close = await upstream.wait_client_close(timeout=2)
    assert close.at - closed_at < 1.0  # liveness: the stream had ~10 s left


async def test_cancelling_the_consumer_task_closes_the_upstream_connection(
    case: ProviderCase, provider: Any, upstream: FakeUpstream
) -> None:
    upstream.reply_text = " ".join(["word"] * 200)  # 10 s at this pace
    upstream.slow_next(0.05)
    first = asyncio.Event()

    async def consume() -> None:
        async for event in provider.stream_chat(request_for(case)):
            if isinstance(event, TextDelta):
                first.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(first.wait(), 5)
    cancelled_at = time.monotonic()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    close = await upstream.wait_client_close(timeout=2)
    assert close.at - cancelled_at < 1.0  # liveness: the stream had ~10 s left


# --- provider specifics ----------------------------------------------------------------------


async def test_openai_asks_for_usage_in_streams(fake_openai: FakeOpenAI) -> None:
    provider = openai_compatible("vllm", base_url=f"{fake_openai.url}/v1")
    try:
        await collect(provider.stream_chat(ChatRequest("gpt-4o", MESSAGES, max_tokens=5)))
    finally:
        await provider.aclose()
    body = fake_openai.requests[0].json()
    assert body["stream_options"] == {"include_usage": True}
    assert body["max_tokens"] == 5, "compatible servers get the classic field"


async def test_usage_is_counted_exactly_when_an_openai_compatible_server_reports_none(
    fake_openai: FakeOpenAI, token_counter: TokenCounter
) -> None:
    fake_openai.report_usage = False
    provider = openai_compatible(
        "lmstudio", base_url=f"{fake_openai.url}/v1", token_counter=token_counter
    )
    try:
        streamed = await collect(provider.stream_chat(ChatRequest("gpt-4o", MESSAGES)))
        unary = await provider.complete_chat(ChatRequest("gpt-4o", MESSAGES))
    finally:
        await provider.aclose()
    expected = UsageReport(
        await token_counter.count_messages("gpt-4o", MESSAGES),
        await token_counter.count_text("gpt-4o", fake_openai.reply_text),
    )
    assert streamed.usage == expected == unary.usage
    assert "authorization" in fake_openai.requests[0].headers  # the SDK needs a placeholder


@pytest.fixture
async def openai_provider(
    fake_openai: FakeOpenAI, token_counter: TokenCounter
) -> AsyncIterator[OpenAIChatProvider]:
    provider = OpenAIChatProvider(
        "openai", api_key="sk-test", base_url=f"{fake_openai.url}/v1", token_counter=token_counter
    )
    yield provider
    await provider.aclose()


async def test_openai_context_length_code_maps_to_context_too_long(
    fake_openai: FakeOpenAI, openai_provider: OpenAIChatProvider
) -> None:
    fake_openai.fail_next(
        400,
        body={
            "error": {
                "message": "This model's maximum context length is 128000 tokens.",
                "type": "invalid_request_error",
                "param": "messages",
                "code": "context_length_exceeded",
            }
        },
    )
    with pytest.raises(InvalidArgument) as caught:
        await openai_provider.complete_chat(ChatRequest("gpt-4o", MESSAGES))
    assert caught.value.reason == REASON_CONTEXT_TOO_LONG
    assert "ListModels" in caught.value.message


async def test_bad_request_passes_the_upstream_explanation_on(
    fake_openai: FakeOpenAI, openai_provider: OpenAIChatProvider
) -> None:
    fake_openai.fail_next(400)
    with pytest.raises(InvalidArgument) as caught:
        await openai_provider.complete_chat(ChatRequest("gpt-4o", MESSAGES))
    assert "fake error 400" in caught.value.message


async def test_rate_limit_http_date_is_understood(
    fake_openai: FakeOpenAI, openai_provider: OpenAIChatProvider
) -> None:
    fake_openai.fail_next(429, retry_after="Wed, 21 Oct 2015 07:28:00 GMT")
    with pytest.raises(ResourceExhausted) as caught:
        await openai_provider.complete_chat(ChatRequest("gpt-4o", MESSAGES))
    assert caught.value.retry_after_s == 0  # a date in the past: retry now


def test_retry_after_forms() -> None:
    assert retry_after_seconds({"Retry-After": "3"}) == 3
    assert retry_after_seconds({"retry-after-ms": "250", "retry-after": "9"}) == 0.25
    assert retry_after_seconds({"retry-after": "soon"}) is None
    assert retry_after_seconds(None) is None


async def test_anthropic_gets_system_separately_and_a_max_tokens(
    fake_anthropic: FakeUpstream, token_counter: TokenCounter
) -> None:
    provider = AnthropicMessagesProvider(
        "anthropic", api_key="k", base_url=fake_anthropic.url, default_max_tokens=321
    )
    try:
        await provider.complete_chat(ChatRequest("claude-haiku-4-5", MESSAGES))
    finally:
        await provider.aclose()
    body = fake_anthropic.requests[0].json()
    assert body["system"] == "Be brief."
    assert body["messages"] == [{"role": "user", "content": "Say hello."}]
    assert body["max_tokens"] == 321


async def test_gemini_maps_roles_and_system_instruction(
    fake_gemini: FakeUpstream, token_counter: TokenCounter
) -> None:
    provider = GeminiProvider("gemini", api_key="k", base_url=fake_gemini.url)
    history = (*MESSAGES, ChatMessage("assistant", "Hello."), ChatMessage("user", "Again."))
    try:
        await collect(provider.stream_chat(ChatRequest("gemini-2.5-flash", history)))
    finally:
        await provider.aclose()
    sent = fake_gemini.requests[0]
    assert sent.path.endswith(":streamGenerateContent")
    assert sent.query.get("alt") == ["sse"]
    body = sent.json()
    assert [c["role"] for c in body["contents"]] == ["user", "model", "user"]
    assert body["systemInstruction"]["parts"][0]["text"] == "Be brief."


async def test_mistral_server_url_has_no_v1(fake_mistral: FakeUpstream) -> None:
    provider = MistralProvider("mistral", api_key="k", server_url=f"{fake_mistral.url}/v1")
    try:
        await provider.complete_chat(ChatRequest("mistral-large-latest", MESSAGES))
    finally:
        await provider.aclose()
    assert fake_mistral.requests[0].path == "/v1/chat/completions"
