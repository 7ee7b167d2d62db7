"""Tool calls in each provider's wire format: tools offered, calls made, results returned.

The domain has one shape (`ToolSpec`, `ToolCall`, assistant turns with `tool_calls`,
`tool` turns with results); each provider module sends it in its API's format through the
helpers here, so the four formats sit side by side:

- OpenAI and Mistral: `tools: [{type: function, function: {name, description,
  parameters}}]`; an assistant message with `tool_calls: [{id, type: function, function:
  {name, arguments}}]`; a `tool` message with `tool_call_id`; `tool_choice`: `none`,
  `required` or `{type: function, function: {name}}`.
- Anthropic: `tools: [{name, description, input_schema}]`; `tool_use` content blocks in the
  assistant turn, `tool_result` blocks in the next user turn; `tool_choice`: `{type: none}`,
  `{type: any}` or `{type: tool, name}`.
- Gemini: `function_declarations`; `function_call` parts in a `model` turn,
  `function_response` parts in a `user` turn; a function calling mode `NONE` or `ANY`,
  with `allowed_function_names`.

`auto` (the model decides) is every API's default, so it is never sent.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from routeur_grpc.domain.completion import ChatMessage, ToolChoice, ToolSpec


def arguments_object(arguments: str) -> dict[str, Any]:
    """A tool call's JSON arguments as an object ({} when they are not one)."""
    try:
        value = json.loads(arguments) if arguments else {}
    except json.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def result_object(content: str) -> dict[str, Any]:
    """A tool's result as the JSON object Gemini wants."""
    return {"result": content}


# --- OpenAI and Mistral ------------------------------------------------------------------------


def openai_tools(tools: Sequence[ToolSpec]) -> list[dict[str, Any]]:
    return [
        {
            "type": "function",
            "function": {
                "name": tool.name,
                "description": tool.description,
                "parameters": tool.parameters,
            },
        }
        for tool in tools
    ]


def openai_tool_choice(choice: ToolChoice) -> str | dict[str, Any] | None:
    """OpenAI's and Mistral's `tool_choice`; None for `auto`."""
    if choice.name:
        return {"type": "function", "function": {"name": choice.name}}
    return None if choice.mode == "auto" else choice.mode


def openai_message(message: ChatMessage, *, with_name: bool = False) -> dict[str, Any]:
    if message.role == "tool":
        turn = {"role": "tool", "tool_call_id": message.tool_call_id, "content": message.content}
        if with_name:
            turn["name"] = message.name
        return turn
    if message.tool_calls:
        return {
            "role": "assistant",
            "content": message.content or None,
            "tool_calls": [
                {
                    "id": call.id,
                    "type": "function",
                    "function": {"name": call.name, "arguments": call.arguments or "{}"},
                }
                for call in message.tool_calls
            ],
        }
    return {"role": message.role, "content": message.content}


# --- Anthropic ---------------------------------------------------------------------------------


def anthropic_tools(tools: Sequence[ToolSpec]) -> list[dict[str, Any]]:
    return [
        {"name": tool.name, "description": tool.description, "input_schema": tool.parameters}
        for tool in tools
    ]


def anthropic_tool_choice(choice: ToolChoice) -> dict[str, Any] | None:
    """The Messages API's `tool_choice`; None for `auto`."""
    if choice.name:
        return {"type": "tool", "name": choice.name}
    return {"auto": None, "none": {"type": "none"}, "required": {"type": "any"}}[choice.mode]


def gemini_function_calling(choice: ToolChoice) -> tuple[str, list[str] | None] | None:
    """Gemini's function calling `mode` and `allowed_function_names`; None for `auto`."""
    if choice.mode == "auto":
        return None
    if choice.mode == "none":
        return "NONE", None
    return "ANY", [choice.name] if choice.name else None


def anthropic_messages(messages: Sequence[ChatMessage]) -> list[dict[str, Any]]:
    """Non-system turns; tool results become `tool_result` blocks of one user turn."""
    turns: list[dict[str, Any]] = []
    for message in messages:
        if message.role == "system":
            continue
        if message.role == "tool":
            block = {
                "type": "tool_result",
                "tool_use_id": message.tool_call_id,
                "content": message.content,
            }
            if turns and turns[-1]["role"] == "user" and isinstance(turns[-1]["content"], list):
                turns[-1]["content"].append(block)
            else:
                turns.append({"role": "user", "content": [block]})
        elif message.tool_calls:
            blocks: list[dict[str, Any]] = []
            if message.content:
                blocks.append({"type": "text", "text": message.content})
            blocks += [
                {
                    "type": "tool_use",
                    "id": call.id,
                    "name": call.name,
                    "input": arguments_object(call.arguments),
                }
                for call in message.tool_calls
            ]
            turns.append({"role": "assistant", "content": blocks})
        else:
            turns.append({"role": message.role, "content": message.content})
    return turns
