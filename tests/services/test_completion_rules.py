"""The rules a completion request must follow; each refusal names what to change."""

from __future__ import annotations

import pytest

from routeur_grpc.domain.completion import (
    MAX_TOOLS,
    ChatMessage,
    CompletionRequest,
    ToolCall,
    ToolChoice,
    ToolSpec,
)
from routeur_grpc.errors import InvalidArgument
from routeur_grpc.services.completion_rules import CompletionLimits, validate_request

CLOCK = ToolSpec("clock", "The time.", {"type": "object", "properties": {}})
CALLED = (
    ChatMessage("user", "What time is it?"),
    ChatMessage("assistant", "", tool_calls=(ToolCall("call_1", "clock", "{}"),)),
    ChatMessage("tool", "noon", tool_call_id="call_1", name="clock"),
)


def check(**fields: object) -> None:
    request = CompletionRequest(**{"message": "hi", "model": "m", **fields})  # type: ignore[arg-type]
    validate_request(request, CompletionLimits())


def test_a_request_answering_tool_results_has_no_new_message() -> None:
    check(message="", history=CALLED, tools=(CLOCK,))


def test_otherwise_the_message_is_required() -> None:
    with pytest.raises(InvalidArgument, match="`message` is empty"):
        check(message="", history=CALLED[:2])


def test_a_tool_turn_must_name_the_call_it_answers() -> None:
    with pytest.raises(InvalidArgument, match=r"`conversation_history\[0\].role` is 'tool'"):
        check(history=(ChatMessage("tool", "noon"),))


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"tools": (ToolSpec("the clock", "", {}),)}, "1 to 64 letters"),
        ({"tools": (ToolSpec("x" * 65, "", {}),)}, "1 to 64 letters"),
        ({"tools": (CLOCK, CLOCK)}, "names 'clock' twice"),
        ({"tools": (CLOCK,) * (MAX_TOOLS + 1)}, f"the limit is {MAX_TOOLS}"),
        ({"tool_choice": ToolChoice("required")}, "without `tools`"),
        ({"tools": (CLOCK,), "tool_choice": ToolChoice("required", "calendar")}, "'calendar'"),
    ],
)
def test_tools_that_cannot_be_offered_are_refused(fields: dict, words: str) -> None:
    with pytest.raises(InvalidArgument, match=words):
        check(**fields)


def test_tools_and_a_named_choice_among_them_are_accepted() -> None:
    check(tools=(CLOCK,), tool_choice=ToolChoice("required", "clock"))
    check(tools=(CLOCK,), tool_choice=ToolChoice("none"))
