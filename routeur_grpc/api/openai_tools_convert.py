"""OpenAI's function calling, to the domain's tools and back.

The caller offers `tools` (functions with a JSON Schema of their arguments) and a
`tool_choice`; the model's calls come back as `tool_calls`, which the caller runs before
sending their results as `tool` messages that name the call they answer.
"""

from __future__ import annotations

from typing import Any

from google.protobuf import json_format, struct_pb2
from routeur.v1 import openai_compat_service_pb2 as pb

from routeur_grpc.domain.completion import AUTO_TOOL_CHOICE, ToolCall, ToolChoice, ToolSpec
from routeur_grpc.errors import InvalidArgument

#: The arguments of a function that declares none.
NO_PARAMETERS: dict[str, Any] = {"type": "object", "properties": {}}
_MODES = ("auto", "none", "required")


def tool_specs(tools: list[pb.OpenAITool]) -> tuple[ToolSpec, ...]:
    """The offered functions (names are checked with the rest of the request)."""
    specs = []
    for index, tool in enumerate(tools):
        if tool.type not in ("", "function"):
            raise InvalidArgument(
                f"`tools[{index}].type` is {tool.type!r}: only `function` tools are supported."
            )
        function = tool.function
        parameters = (
            _plain(json_format.MessageToDict(function.parameters))
            if function.HasField("parameters")
            else NO_PARAMETERS
        )
        specs.append(ToolSpec(function.name, function.description, parameters))
    return tuple(specs)


def tool_choice(value: struct_pb2.Value) -> ToolChoice:
    """`auto`, `none`, `required`, or `{"type": "function", "function": {"name": ...}}`."""
    kind = value.WhichOneof("kind")
    if kind is None or kind == "null_value":
        return AUTO_TOOL_CHOICE
    if kind == "string_value" and value.string_value in _MODES:
        return ToolChoice(value.string_value)  # type: ignore[arg-type]
    if kind == "struct_value":
        choice = json_format.MessageToDict(value.struct_value)
        function = choice.get("function")
        name = function.get("name") if isinstance(function, dict) else None
        if choice.get("type") == "function" and isinstance(name, str) and name:
            return ToolChoice("required", name)
    raise InvalidArgument(
        '`tool_choice` must be "auto", "none", "required" or {"type": "function", '
        '"function": {"name": ...}}.'
    )


def tool_calls_of(message: pb.OpenAIChatMessage, index: int) -> tuple[ToolCall, ...]:
    """An assistant message's calls, each with the id its result will name."""
    calls = []
    for position, call in enumerate(message.tool_calls):
        if not call.id or not call.function.name:
            raise InvalidArgument(
                f"`messages[{index}].tool_calls[{position}]` needs an `id` and a "
                "`function.name`."
            )
        calls.append(ToolCall(call.id, call.function.name, call.function.arguments))
    return tuple(calls)


def openai_tool_call(call: ToolCall, index: int | None = None) -> pb.OpenAIToolCall:
    """A call in OpenAI's shape; `index` (its place in the answer) in a stream only."""
    return pb.OpenAIToolCall(
        index=index,
        id=call.id,
        type="function",
        function=pb.OpenAIFunctionCall(name=call.name, arguments=call.arguments or "{}"),
    )


def _plain(value: Any) -> Any:
    """JSON from a protobuf Struct, whose numbers are all floats: 3.0 back to 3."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value
