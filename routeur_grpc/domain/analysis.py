"""Text analysis domain types: what a caller asks to have analysed, and the analysis.

Plain values, free of protobuf; `routeur_grpc.api.analysis_convert` maps them to and from
the wire types.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from routeur_grpc.domain.completion import CompletionMetadata

Sentiment = Literal["positive", "neutral", "negative", "mixed"]
SENTIMENTS: tuple[str, ...] = ("positive", "neutral", "negative", "mixed")

ENTITY_TYPES: tuple[str, ...] = (
    "person", "organization", "location", "date", "product", "event", "other"
)


@dataclass(frozen=True, slots=True)
class AnalysisRequest:
    """A text to analyse, with the model to use ("" for the default) and extra instructions."""

    text: str
    model: str = ""
    instructions: str = ""


@dataclass(frozen=True, slots=True)
class Entity:
    """A named thing a text mentions."""

    text: str
    type: str  # one of ENTITY_TYPES


@dataclass(frozen=True, slots=True)
class TextAnalysis:
    """A saved analysis: the model's structured answer and what it cost."""

    analysis_id: str
    text: str
    model: str
    summary: str
    sentiment: str
    language: str
    keywords: tuple[str, ...]
    entities: tuple[Entity, ...]
    result: dict[str, Any]  # the whole (validated) JSON object, extra keys included
    metadata: CompletionMetadata | None
    create_time: datetime
