"""A caller's `tool_choice` reaches each upstream in its API's format; `auto` is not sent.

Ollama is not offered tools here: a request that offers some is refused before anything
is sent, instead of being answered as if no tool existed.
"""

from __future__ import annotations

from typing import Any

import pytest
from fakes import FakeUpstream

from routeur_grpc.domain.completion import ChatMessage, ToolChoice, ToolSpec
from routeur_grpc.errors import InvalidArgument
from routeur_grpc.providers.base import ChatRequest
from routeur_grpc.providers.sampling import REASON_UNSUPPORTED_PARAMETER

from .conftest import PROVIDER_CASES, ProviderCase
from .streams import collect

CALCULATOR = ToolSpec(
    "calculator", "Computes.", {"type": "object", "properties": {"expression": {"type": "string"}}}
)
CHOICES = {
    "none": ToolChoice("none"),
    "required": ToolChoice("required"),
    "named": ToolChoice("required", "calculator"),
}
#: What each API receives for each choice.
SENT = {
    "openai": {
        "none": "none", "required": "required",
        "named": {"type": "function", "function": {"name": "calculator"}},
    },
    "anthropic": {
        "none": {"type": "none"}, "required": {"type": "any"},
        "named": {"type": "tool", "name": "calculator"},
    },
    "gemini": {
        "none": {"mode": "NONE"}, "required": {"mode": "ANY"},
        "named": {"mode": "ANY", "allowedFunctionNames": ["calculator"]},
    },
}
SENT["mistral"] = SENT["openai"]
TOOL_CASES = [case for case in PROVIDER_CASES if case.id in SENT]
OLLAMA = [case for case in PROVIDER_CASES if case.id == "ollama"]


def _request(case: ProviderCase, choice: ToolChoice) -> ChatRequest:
    return ChatRequest(
        model=case.model, messages=(ChatMessage("user", "What is 6 * 7?"),),
        tools=(CALCULATOR,), tool_choice=choice,
    )


def _choice_sent(case_id: str, body: dict[str, Any]) -> Any:
    if case_id == "gemini":
        return (body.get("toolConfig") or {}).get("functionCallingConfig")
    return body.get("tool_choice")


@pytest.mark.parametrize("case", TOOL_CASES, indirect=True, ids=lambda case: case.id)
@pytest.mark.parametrize("choice", [*CHOICES, "auto"])
async def test_the_choice_is_sent_in_the_apis_own_format(
    case: ProviderCase, provider: Any, upstream: FakeUpstream, choice: str
) -> None:
    request = _request(case, CHOICES.get(choice, ToolChoice()))
    await collect(provider.stream_chat(request))
    expected = None if choice == "auto" else SENT[case.id][choice]
    assert _choice_sent(case.id, upstream.requests[-1].json()) == expected


@pytest.mark.parametrize("case", OLLAMA, indirect=True, ids=lambda case: case.id)
async def test_tools_offered_to_ollama_are_refused_before_any_request(
    case: ProviderCase, provider: Any, upstream: FakeUpstream
) -> None:
    with pytest.raises(InvalidArgument) as caught:
        await collect(provider.stream_chat(_request(case, ToolChoice())))
    assert caught.value.reason == REASON_UNSUPPORTED_PARAMETER
    assert "`tools` is not supported by llama3:8b" in caught.value.message
    assert upstream.requests == []
