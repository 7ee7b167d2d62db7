"""Reading a model's analysis answer: find the JSON in it, repair it, check it.

Models asked for "JSON only" still wrap it in a ```json fence, put a sentence before or
after it, use single quotes or leave a trailing comma. `parse_analysis` finds the object
(fenced block first, else the outermost braces), parses it strictly, and falls back to
`json_repair` (a maintained repairer of LLM JSON) only when strict parsing fails. The object
is then validated against `AnalysisOutput`, which forgives harmless variations (case,
`en-US` for `en`, a comma-separated keyword string, entities given as plain names) and
refuses the rest with a message precise enough to send back to the model.
"""

from __future__ import annotations

import json
import re
from typing import Any

import json_repair
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from routeur_grpc.domain.analysis import ENTITY_TYPES, SENTIMENTS

_FENCE = re.compile(r"```[a-zA-Z0-9_-]*[ \t]*\n?(.*?)```", re.DOTALL)
_LANGUAGE_CODE = re.compile(r"[a-z]{2}")
MAX_KEYWORDS = 20
MAX_ENTITIES = 100
# Words models write instead of the four sentiments (English and French).
_SENTIMENT_SYNONYMS = {
    "positif": "positive",
    "positive": "positive",
    "négatif": "negative",
    "negatif": "negative",
    "negative": "negative",
    "neutre": "neutral",
    "neutral": "neutral",
    "mixte": "mixed",
    "mitigé": "mixed",
    "mixed": "mixed",
}


class InvalidModelOutput(Exception):
    """The model's answer is not a usable analysis; the message says why, for the model."""


class EntityOutput(BaseModel):
    """One entity as the model wrote it."""

    model_config = ConfigDict(extra="ignore")

    text: str = Field(min_length=1)
    type: str = "other"

    @field_validator("type", mode="before")
    @classmethod
    def _known_type(cls, value: Any) -> str:
        kind = str(value or "other").strip().lower()
        aliases = {"organisation": "organization", "org": "organization", "place": "location",
                   "loc": "location", "per": "person", "people": "person"}
        kind = aliases.get(kind, kind)
        return kind if kind in ENTITY_TYPES else "other"


class AnalysisOutput(BaseModel):
    """The JSON object an analysis asks the model for. Extra keys (asked for in the
    caller's instructions) are kept."""

    model_config = ConfigDict(extra="allow")

    summary: str = Field(min_length=1)
    sentiment: str
    language: str
    keywords: list[str] = Field(default_factory=list, max_length=MAX_KEYWORDS)
    entities: list[EntityOutput] = Field(default_factory=list, max_length=MAX_ENTITIES)

    @field_validator("summary", mode="before")
    @classmethod
    def _stripped(cls, value: Any) -> Any:
        return value.strip() if isinstance(value, str) else value

    @field_validator("sentiment", mode="before")
    @classmethod
    def _sentiment(cls, value: Any) -> str:
        word = str(value).strip().lower() if value is not None else ""
        sentiment = _SENTIMENT_SYNONYMS.get(word)
        if sentiment is None:
            raise ValueError(f"must be one of {', '.join(SENTIMENTS)}")
        return sentiment

    @field_validator("language", mode="before")
    @classmethod
    def _language(cls, value: Any) -> str:
        code = str(value).strip().lower().replace("_", "-").partition("-")[0] if value else ""
        if not _LANGUAGE_CODE.fullmatch(code):
            raise ValueError('must be a two-letter ISO 639-1 code such as "en" or "fr"')
        return code

    @field_validator("keywords", mode="before")
    @classmethod
    def _keyword_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.split(",")
        if isinstance(value, list):
            words = [str(word).strip() for word in value if str(word).strip()]
            return list(dict.fromkeys(words))  # no duplicates, order kept
        return value

    @field_validator("entities", mode="before")
    @classmethod
    def _entity_list(cls, value: Any) -> Any:
        if value is None:
            return []
        if isinstance(value, list):
            return [_entity(item) for item in value]
        return value


def _entity(item: Any) -> Any:
    """Entities written as a plain name, or with `name` for `text`, are accepted."""
    if isinstance(item, str):
        return {"text": item.strip(), "type": "other"}
    if isinstance(item, dict) and "text" not in item:
        for key in ("name", "entity", "value"):
            if key in item:
                return {**item, "text": item[key]}
    return item


def extract_json_object(answer: str) -> dict[str, Any]:
    """The JSON object in a model's answer. Raises `InvalidModelOutput` when there is none."""
    candidate = _candidate(answer)
    if candidate is None:
        raise InvalidModelOutput("the answer contains no JSON object (no `{`)")
    try:
        value = json.loads(candidate)
    except json.JSONDecodeError:
        value = json_repair.loads(candidate)
    if not isinstance(value, dict) or not value:
        raise InvalidModelOutput("the answer is not a JSON object with the keys asked for")
    return value


def _candidate(answer: str) -> str | None:
    for block in _FENCE.findall(answer):
        if "{" in block:
            return _braced(block)
    return _braced(answer)


def _braced(text: str) -> str | None:
    """From the first `{` to the last `}` (or to the end, for an answer cut short)."""
    start = text.find("{")
    if start < 0:
        return None
    end = text.rfind("}")
    return text[start : end + 1] if end > start else text[start:]


def parse_analysis(answer: str) -> AnalysisOutput:
    """The validated analysis in a model's answer, or `InvalidModelOutput` saying what is
    wrong with it."""
    document = extract_json_object(answer)
    try:
        return AnalysisOutput.model_validate(document)
    except ValidationError as error:
        raise InvalidModelOutput(describe_problems(error)) from None


def describe_problems(error: ValidationError) -> str:
    """Pydantic's errors as one line per field, e.g. "`sentiment`: must be one of …"."""
    lines = []
    for problem in error.errors(include_url=False):
        where = ".".join(str(part) for part in problem["loc"]) or "the object"
        message = problem["msg"].removeprefix("Value error, ")
        if problem["type"] == "missing":
            message = "missing"
        lines.append(f"`{where}`: {message}")
    return "; ".join(lines)
