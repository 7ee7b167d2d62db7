"""The rules a completion request must follow, each broken one named with what to change.

Checked before anything is asked of a model, so a refused request costs nothing upstream
and changes nothing stored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from routeur_grpc.domain.completion import (
    MAX_STOP_SEQUENCES,
    MAX_TOOLS,
    ROLES,
    CompletionRequest,
    Sampling,
    ToolChoice,
    ToolSpec,
)
from routeur_grpc.errors import InvalidArgument

MAX_TEMPERATURE = 2.0
MAX_HISTORY_MESSAGES = 1000
MAX_SOURCES = 1000
MAX_STOP_CHARS = 500
#: A tool's name, as OpenAI, Anthropic and Gemini all accept it.
TOOL_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")


@dataclass(frozen=True, slots=True)
class CompletionLimits:
    """Bounds on what a request may ask for."""

    max_message_chars: int = 200_000
    max_tokens: int = 32_768


def validate_request(request: CompletionRequest, limits: CompletionLimits) -> None:
    """Raise `InvalidArgument` naming the first field that is wrong, and why."""
    limit = limits.max_message_chars
    answers_tool_results = bool(request.history) and request.history[-1].role == "tool"
    if not request.message.strip() and not answers_tool_results:
        raise InvalidArgument("`message` is empty: give the text to answer.")
    if len(request.message) > limit:
        raise InvalidArgument(
            f"`message` is {len(request.message)} characters long; the limit is {limit}."
        )
    if not request.model.strip():
        raise InvalidArgument("`model` is empty: name a model from ListModels.")
    if request.temperature is not None and not 0 <= request.temperature <= MAX_TEMPERATURE:
        raise InvalidArgument(
            f"`temperature` is {request.temperature}; it must be between 0 and "
            f"{MAX_TEMPERATURE}."
        )
    if request.max_tokens is not None and not 1 <= request.max_tokens <= limits.max_tokens:
        raise InvalidArgument(
            f"`max_tokens` is {request.max_tokens}; it must be between 1 and "
            f"{limits.max_tokens}."
        )
    validate_sampling(request.sampling)
    validate_tools(request.tools, request.tool_choice)
    if len(request.history) > MAX_HISTORY_MESSAGES:
        raise InvalidArgument(
            f"`conversation_history` has {len(request.history)} messages; the limit is "
            f"{MAX_HISTORY_MESSAGES}."
        )
    for index, turn in enumerate(request.history):
        if turn.role not in ROLES and not (turn.role == "tool" and turn.tool_call_id):
            raise InvalidArgument(
                f"`conversation_history[{index}].role` is {turn.role!r}; use one of "
                f"{', '.join(sorted(ROLES))}."
            )
        if len(turn.content) > limit:
            raise InvalidArgument(
                f"`conversation_history[{index}].content` is longer than {limit} characters."
            )
    if len(request.sources) > MAX_SOURCES:
        raise InvalidArgument(f"`sources` lists more than {MAX_SOURCES} documents.")
    if request.sources and not request.project_id:
        raise InvalidArgument(
            "`sources` is given without `project_id`: name the project the documents "
            "belong to."
        )


def validate_sampling(sampling: Sampling) -> None:
    """Raise `InvalidArgument` for the first sampling parameter out of its range."""
    if sampling.top_p is not None and not 0 <= sampling.top_p <= 1:
        raise InvalidArgument(f"`top_p` is {sampling.top_p}; it must be between 0 and 1.")
    for name in ("presence_penalty", "frequency_penalty"):
        value = getattr(sampling, name)
        if value is not None and not -2 <= value <= 2:
            raise InvalidArgument(f"`{name}` is {value}; it must be between -2 and 2.")
    if len(sampling.stop) > MAX_STOP_SEQUENCES:
        raise InvalidArgument(
            f"`stop` has {len(sampling.stop)} sequences; the limit is {MAX_STOP_SEQUENCES}."
        )
    for index, stop in enumerate(sampling.stop):
        if not stop:
            raise InvalidArgument(f"`stop[{index}]` is empty: a stop sequence needs text.")
        if len(stop) > MAX_STOP_CHARS:
            raise InvalidArgument(
                f"`stop[{index}]` is {len(stop)} characters long; the limit is {MAX_STOP_CHARS}."
            )


def validate_tools(tools: tuple[ToolSpec, ...], choice: ToolChoice) -> None:
    """Raise `InvalidArgument` for the first tool, or tool choice, that cannot be sent."""
    if len(tools) > MAX_TOOLS:
        raise InvalidArgument(f"`tools` has {len(tools)} tools; the limit is {MAX_TOOLS}.")
    names: set[str] = set()
    for index, tool in enumerate(tools):
        if not TOOL_NAME.fullmatch(tool.name):
            raise InvalidArgument(
                f"`tools[{index}].function.name` is {tool.name!r}: use 1 to 64 letters, "
                "digits, `_` or `-`."
            )
        if tool.name in names:
            raise InvalidArgument(f"`tools` names {tool.name!r} twice: each name once.")
        names.add(tool.name)
    if choice.mode != "auto" and not tools:
        raise InvalidArgument("`tool_choice` is given without `tools`: offer the tools too.")
    if choice.name and choice.name not in names:
        raise InvalidArgument(
            f"`tool_choice` names {choice.name!r}, which is not one of `tools`."
        )
