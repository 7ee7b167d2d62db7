"""A meeting's structured report (summary, decisions, action items), written by a chat model.

The transcript goes to a chat model through the completion service, so the report is
routed, retried, accounted and recorded like any completion of the caller's. The model is
asked for one JSON object; small models wrap it in prose or code fences, or add trailing
text, so the first JSON object in the answer is taken, and a field of the wrong type is
read as empty rather than failing the meeting. An answer with no JSON at all becomes a
summary made of the answer's text: the transcript is never lost for a malformed report.
"""

from __future__ import annotations

import json
from typing import Any

from routeur_grpc.domain.caller import Caller
from routeur_grpc.domain.completion import ChatMessage, CompletionRequest, CompletionResult
from routeur_grpc.domain.transcription import ActionItem, MeetingReport
from routeur_grpc.services.completion import CompletionService

INSTRUCTIONS = (
    "You read meeting transcripts and write their report. Answer with one JSON object and "
    'nothing else: {"summary": "...", "decisions": ["..."], "action_items": '
    '[{"description": "...", "owner": "...", "due": "..."}]}. Write in the language of the '
    "transcript. Use empty strings or lists when the meeting did not say."
)


class MeetingReporter:
    """Asks a chat model for a meeting's report and reads it."""

    def __init__(
        self, completions: CompletionService, model: str, max_transcript_chars: int, max_tokens: int
    ) -> None:
        self._completions = completions
        self._model = model
        self._max_chars = max_transcript_chars
        self._max_tokens = max_tokens

    async def report(self, transcript: str, caller: Caller) -> MeetingReport:
        text = transcript.strip()
        if len(text) > self._max_chars:
            text = text[: self._max_chars] + " [...]"
        result: CompletionResult = await self._completions.complete(
            CompletionRequest(
                message=f"Transcript:\n{text}",
                model=self._model,
                history=(ChatMessage("system", INSTRUCTIONS),),
                temperature=0.0,
                max_tokens=self._max_tokens,
            ),
            caller,
            # The report follows its own instructions: no agent adds a system prompt. A
            # meeting's `project_id` only labels it (the project needs no documents).
            direct=True,
        )
        return parse_report(result.response, model=result.model)


def parse_report(answer: str, model: str = "") -> MeetingReport:
    """The report in a model's answer; see the module docstring for what is tolerated."""
    document = first_json_object(answer)
    if document is None:
        return MeetingReport(summary=answer.strip(), model=model)
    items = []
    for item in _list(document.get("action_items")):
        if isinstance(item, dict):
            description = _text(item.get("description") or item.get("task") or item.get("action"))
            if description:
                items.append(
                    ActionItem(
                        description=description,
                        owner=_text(item.get("owner") or item.get("assignee")),
                        due=_text(item.get("due") or item.get("due_date")),
                    )
                )
        elif _text(item):
            items.append(ActionItem(description=_text(item)))
    return MeetingReport(
        summary=_text(document.get("summary")),
        decisions=tuple(_text(d) for d in _list(document.get("decisions")) if _text(d)),
        action_items=tuple(items),
        model=model,
    )


def first_json_object(text: str) -> dict[str, Any] | None:
    """The first `{...}` in `text` that parses as a JSON object, or None."""
    decoder = json.JSONDecoder()
    start = text.find("{")
    while start != -1:
        try:
            value, _ = decoder.raw_decode(text, start)
        except ValueError:
            start = text.find("{", start + 1)
            continue
        if isinstance(value, dict):
            return value
        start = text.find("{", start + 1)
    return None


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return ""
