"""Reading a model's analysis answer, without the transport: where the JSON is found, what
is repaired or forgiven, and what is refused with a message fit to send back to the model.
Also the sum of several calls' accounting."""

from __future__ import annotations

import json

import pytest

from routeur_grpc.accounting.combined import combine
from routeur_grpc.domain.completion import (
    CompletionMetadata,
    Equivalences,
    ModelCost,
    Pricing,
    TokenUsage,
)
from routeur_grpc.services.analysis_documents import (
    metadata_document,
    metadata_from_document,
)
from routeur_grpc.services.analysis_output import (
    InvalidModelOutput,
    extract_json_object,
    parse_analysis,
)

GOOD = {"summary": "A text.", "sentiment": "neutral", "language": "fr", "keywords": ["a"]}


@pytest.mark.parametrize(
    "answer",
    [
        json.dumps(GOOD),
        "```json\n" + json.dumps(GOOD) + "\n```",
        "```\n" + json.dumps(GOOD) + "\n```",
        "Here you go:\n```json\n" + json.dumps(GOOD) + "\n```\nAnything else?",
        "Analysis: " + json.dumps(GOOD) + " Done.",
        "{'summary': 'A text.', 'sentiment': 'neutral', 'language': 'fr', 'keywords': ['a',],}",
        '{"summary": "A text.", "sentiment": "neutral", "language": "fr", "keywords": ["a"]',
    ],
    ids=["plain", "fenced-json", "fenced", "fenced-in-prose", "inline-in-prose",
         "single-quotes-trailing-commas", "cut-short"],
)
def test_the_object_is_found_and_read(answer: str) -> None:
    assert extract_json_object(answer) == GOOD


@pytest.mark.parametrize(
    ("answer", "problem"),
    [
        ("I cannot do that.", "no JSON object"),
        ("[1, 2, 3]", "no JSON object"),
        ("{}", "not a JSON object with the keys"),
    ],
)
def test_no_object_is_refused(answer: str, problem: str) -> None:
    with pytest.raises(InvalidModelOutput, match=problem):
        extract_json_object(answer)


def test_harmless_variations_are_forgiven() -> None:
    output = parse_analysis(
        json.dumps(
            {
                "summary": "  A text.  ",
                "sentiment": "Négatif",
                "language": "en-US",
                "keywords": "alpha, beta, alpha",
                "entities": ["Paris", {"name": "Ada", "type": "PER"}, {"text": "X", "type": "?"}],
                "people": ["Ada"],
            }
        )
    )
    assert output.summary == "A text."
    assert output.sentiment == "negative"
    assert output.language == "en"
    assert output.keywords == ["alpha", "beta"]
    assert [(e.text, e.type) for e in output.entities] == [
        ("Paris", "other"), ("Ada", "person"), ("X", "other")
    ]
    assert output.model_dump()["people"] == ["Ada"]  # extra keys asked for are kept


def test_each_wrong_field_is_named_for_the_model() -> None:
    with pytest.raises(InvalidModelOutput) as raised:
        parse_analysis(json.dumps({"sentiment": "ecstatic", "language": "French"}))
    problem = str(raised.value)
    assert "`summary`: missing" in problem
    assert "`sentiment`: must be one of positive, neutral, negative, mixed" in problem
    assert "`language`: must be a two-letter ISO 639-1 code" in problem


def _metadata(model: str, prompt: int, completion: int, cost: float) -> CompletionMetadata:
    return CompletionMetadata(
        model=model,
        message_count=2,
        latency_s=0.5,
        usage=TokenUsage(prompt, completion),
        usage_by_model={model: TokenUsage(prompt, completion)},
        emissions_kg_co2eq=0.001,
        energy_kwh=0.01,
        pricing=Pricing("EUR", {model: ModelCost(cost / 2, cost / 2)}),
        equivalences=Equivalences(1.0, 2.0, 3.0, 4.0),
    )


def test_the_accounting_of_two_calls_adds_up() -> None:
    total = combine([_metadata("m", 10, 5, 0.2), _metadata("m", 20, 7, 0.4)])
    assert total.usage == TokenUsage(30, 12)
    assert total.usage_by_model == {"m": TokenUsage(30, 12)}
    assert total.pricing is not None and total.pricing.total_cost == pytest.approx(0.6)
    assert total.latency_s == pytest.approx(1.0)
    assert total.emissions_kg_co2eq == pytest.approx(0.002)
    assert total.equivalences == Equivalences(2.0, 4.0, 6.0, 8.0)
    assert combine([_metadata("m", 1, 1, 0.1)]) == _metadata("m", 1, 1, 0.1)


def test_stored_accounting_reads_back_the_same() -> None:
    metadata = _metadata("m", 10, 5, 0.2)
    assert metadata_from_document(json.loads(json.dumps(metadata_document(metadata)))) == (
        metadata
    )
