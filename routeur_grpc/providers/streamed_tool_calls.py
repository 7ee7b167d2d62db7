"""Putting together tool calls whose pieces arrive over several stream events.

OpenAI streams a call as deltas keyed by index (id and name first, then the arguments a few
characters at a time); Anthropic as a `tool_use` block start followed by `input_json_delta`
pieces. Both are collected here, and the whole calls are reported at the end.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from routeur_grpc.domain.completion import ToolCall


@dataclass(slots=True)
class _Pending:
    id: str = ""
    name: str = ""
    arguments: list[str] = field(default_factory=list)


class StreamedToolCalls:
    """Tool calls being streamed, by index, in the order they started."""

    def __init__(self) -> None:
        self._calls: dict[int, _Pending] = {}

    def add(
        self, index: int, call_id: str | None, name: str | None, arguments: str | None
    ) -> None:
        pending = self._calls.setdefault(index, _Pending())
        if call_id:
            pending.id = call_id
        if name:
            pending.name = name
        if arguments:
            pending.arguments.append(arguments)

    @property
    def started(self) -> bool:
        """Whether any piece of a call has arrived."""
        return bool(self._calls)

    def finished(self) -> list[ToolCall]:
        return [
            ToolCall(p.id or f"call_{index}", p.name, "".join(p.arguments) or "{}")
            for index, p in self._calls.items()
            if p.name
        ]
