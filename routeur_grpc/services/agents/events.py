"""What a graph's nodes write to the run's stream (`stream_mode="custom"`)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class AnswerText:
    """A piece of the answer, to reach the client now, with who wrote it.

    `requested_model` and `fallback_reason` are set when another model than the one asked
    for wrote it (the router's fallback), so that every piece says so.
    """

    text: str
    model: str
    requested_model: str = ""
    fallback_reason: str = ""


@dataclass(frozen=True, slots=True)
class AnswerRestarted:
    """The answer so far is replaced by what follows (a revision).

    A whole (unary) answer drops what came before; a stream has already shown it, so the
    revision follows it after a blank line.
    """


AgentEvent = AnswerText | AnswerRestarted
