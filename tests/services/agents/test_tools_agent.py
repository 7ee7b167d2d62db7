"""The tools agent through the real server: each provider's SDK, its fake speaking that
provider's tool-call wire format, the calculator and the clock, and the steps in metadata."""

from __future__ import annotations

import json

import grpc
import pytest
from fakes.http_server import Fault
from providers.conftest import EndToEnd
from routeur.v1 import completion_service_pb2 as pb
from routeur.v1 import completion_service_pb2_grpc as pb_grpc

from routeur_grpc.services.agents.tools import ToolInputError, evaluate, run_tool

PROVIDERS = [
    ("openai", "gpt-4o"),
    ("mistral", "mistral-large-latest"),
    ("anthropic", "claude-haiku-4-5"),
    ("gemini", "gemini-2.5-flash"),
]


@pytest.mark.parametrize(("fake", "model"), PROVIDERS, ids=[p[0] for p in PROVIDERS])
async def test_the_model_calls_the_calculator_through_its_provider(
    e2e: EndToEnd, fake: str, model: str
) -> None:
    upstream = e2e.fakes[fake]
    upstream.tool_call = ("calculator", {"expression": "(17 + 25) * 3"})
    upstream.reply_text = "The result is 126."
    chunks = [
        chunk
        async for chunk in pb_grpc.CompletionServiceStub(e2e.channel).StreamCompletion(
            pb.StreamCompletionRequest(message="How much is (17 + 25) * 3?", model=model,
                                       agent="TOOLS"),
            timeout=10,
        )
    ]
    last = chunks[-1]
    assert last.done and not last.HasField("error")
    assert "".join(c.content for c in chunks) == "The result is 126."
    assert all(c.metadata.agent == "TOOLS" for c in chunks)
    [step] = last.metadata.tool_calls
    assert (step.name, json.loads(step.arguments), step.result, step.error) == (
        "calculator", {"expression": "(17 + 25) * 3"}, "126", False)
    assert [s.name for s in last.metadata.steps] == ["prepare", "model", "tools", "model"]
    # Two model calls, both accounted.
    assert len(upstream.requests) == 2
    assert last.metadata.usage.output_tokens == last.metadata.usage_by_model[model].output_tokens
    second = upstream.requests[1].json()
    assert "126" in json.dumps(second), "the tool's result went back to the model"


@pytest.mark.parametrize(("fake", "model"), PROVIDERS, ids=[p[0] for p in PROVIDERS])
async def test_a_malformed_tool_call_stream_is_the_upstreams_fault_and_retried(
    e2e: EndToEnd, fake: str, model: str
) -> None:
    upstream = e2e.fakes[fake]
    upstream.tool_call = ("calculator", {"expression": "6 * 7"})
    upstream.reply_text = "It is 42."
    upstream.garble_next(Fault("malformed", after_frames=1))
    response = await pb_grpc.CompletionServiceStub(e2e.channel).Complete(
        pb.CompleteRequest(message="How much is 6 * 7?", model=model, agent="TOOLS"), timeout=10
    )
    assert response.response == "It is 42."
    [step] = response.metadata.tool_calls
    assert (step.result, step.error) == ("42", False)
    # The bad stream is retried (nothing had reached the client), and every attempt of
    # both model calls is listed.
    assert [a.error_reason for a in response.metadata.attempts] == [
        "UPSTREAM_MALFORMED_RESPONSE", "", ""]
    assert len(upstream.requests) == 3


async def test_a_tool_call_stream_cut_short_is_unavailable_and_never_run(e2e: EndToEnd) -> None:
    upstream = e2e.fakes["openai"]
    upstream.tool_call = ("calculator", {"expression": "6 * 7"})
    upstream.always(Fault("broken", after_frames=2))
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await pb_grpc.CompletionServiceStub(e2e.channel).Complete(
            pb.CompleteRequest(message="How much is 6 * 7?", model="gpt-4o-mini",
                               agent="TOOLS"),
            timeout=10,
        )
    upstream.always(None)
    # The stream ends without its finish reason: cut short, the upstream's fault (retried,
    # then given up), and the half-streamed call never reached the calculator.
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    assert "ended its answer before finishing it" in caught.value.details()
    details = dict(caught.value.trailing_metadata())["grpc-status-details-bin"]
    assert b"UPSTREAM_INCOMPLETE_RESPONSE" in details


async def test_the_clock_answers_in_the_asked_time_zone(e2e: EndToEnd) -> None:
    upstream = e2e.fakes["openai"]
    upstream.tool_call = ("clock", {"timezone": "Europe/Paris"})
    response = await pb_grpc.CompletionServiceStub(e2e.channel).Complete(
        pb.CompleteRequest(message="What time is it in Paris?", model="gpt-4o", agent="TOOLS"),
        timeout=10,
    )
    [step] = response.metadata.tool_calls
    result = json.loads(step.result)
    assert result["timezone"] == "Europe/Paris" and result["datetime"][-6:] in ("+01:00", "+02:00")
    assert response.response == upstream.reply_text


async def test_a_tool_refusing_its_arguments_is_reported_to_the_model(e2e: EndToEnd) -> None:
    upstream = e2e.fakes["openai"]
    upstream.tool_call = ("calculator", {"expression": "__import__('os').system('true')"})
    response = await pb_grpc.CompletionServiceStub(e2e.channel).Complete(
        pb.CompleteRequest(message="Compute this", model="gpt-4o", agent="TOOLS"), timeout=10
    )
    [step] = response.metadata.tool_calls
    assert step.error and "Only numbers" in step.result


async def test_models_without_tool_calls_are_refused_for_the_tools_agent(e2e: EndToEnd) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await pb_grpc.CompletionServiceStub(e2e.channel).Complete(
            pb.CompleteRequest(message="2+2?", model="ollama/llama3:8b", agent="TOOLS"), timeout=10
        )
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "cannot" in caught.value.details()


@pytest.mark.parametrize(
    ("expression", "value"),
    [("1 + 2 * 3", 7), ("(1 + 2) * 3", 9), ("2 ** 10", 1024), ("7 / 2", 3.5), ("-3 % 5", 2),
     ("2^3", 8)],
)
def test_the_calculator_does_arithmetic(expression: str, value: float) -> None:
    assert evaluate(expression) == value


@pytest.mark.parametrize(
    "expression", ["__import__('os')", "a + 1", "(lambda: 1)()", "9 ** 9 ** 9", "1 / 0", "[1][0]"]
)
def test_the_calculator_refuses_anything_but_arithmetic(expression: str) -> None:
    with pytest.raises(ToolInputError):
        evaluate(expression)


def test_an_unknown_tool_or_bad_json_is_an_error_result() -> None:
    from datetime import UTC, datetime

    now = datetime.now(UTC)
    assert run_tool("shell", "{}", now)[1] is True
    assert run_tool("calculator", "not json", now) == ("The arguments are not valid JSON.", True)
    assert run_tool("calculator", '{"expression": "6*7"}', now) == ("42", False)
