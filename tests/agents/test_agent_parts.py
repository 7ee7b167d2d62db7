"""The agents' parts without the transport: V2's checks, the accounting sum, the registry."""

from __future__ import annotations

import pytest

from routeur_grpc.domain.completion import (
    CompletionMetadata,
    Equivalences,
    ModelCost,
    Pricing,
    TokenUsage,
)
from routeur_grpc.errors import InvalidArgument, NotFound
from routeur_grpc.services.agents.accounting import merge_metadata
from routeur_grpc.services.agents.catalog import AGENTS
from routeur_grpc.services.agents.checks import check_answer, detect_language
from routeur_grpc.services.agents.registry import AgentEnvironment, AgentRegistry


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Quelle est la capitale de la France et pourquoi est-elle connue ?", "fr"),
        ("What is the capital of France and why is it so famous?", "en"),
        ("Say hello", None),
    ],
)
def test_the_language_is_named_only_when_clear(text: str, language: str | None) -> None:
    assert detect_language(text) == language


def test_a_good_answer_passes() -> None:
    assert check_answer("Quelle est la capitale de la France ?", "La capitale de la France est Paris, et elle est connue.") is None


def test_an_empty_answer_fails() -> None:
    assert check_answer("Say hello", "  \n") == "empty"


def test_a_looping_answer_fails() -> None:
    assert check_answer("Say hello", "I am a robot friend. " * 4) == "repetitive"


def test_an_answer_in_another_language_fails_unless_a_translation_was_asked() -> None:
    question = "Quelle est la capitale de la France et pourquoi est-elle connue ?"
    english = "The capital of France is Paris, and it is known for the tower."
    assert check_answer(question, english) == "wrong language (en, asked in fr)"
    assert check_answer("Traduis en anglais : la capitale de la France est Paris et elle est belle.", english) is None


def test_the_accounting_of_several_calls_adds_up() -> None:
    def call(model: str, usage: TokenUsage, cost: ModelCost, kg: float) -> CompletionMetadata:
        return CompletionMetadata(
            model=model, usage=usage, usage_by_model={model: usage},
            pricing=Pricing("EUR", {model: cost}), emissions_kg_co2eq=kg, energy_kwh=kg * 10,
            equivalences=Equivalences(kg, kg, kg, kg),
        )

    merged = merge_metadata(
        [call("a", TokenUsage(10, 5), ModelCost(0.1, 0.2), 1e-4),
         call("b", TokenUsage(3, 2), ModelCost(0.01, 0.02), 2e-4),
         call("a", TokenUsage(1, 1), ModelCost(0.001, 0.002), 3e-4)],
        model="a", agent="V2", currency="EUR", message_count=1, latency_s=1.5,
    )
    assert merged.usage_by_model == {"a": TokenUsage(11, 6), "b": TokenUsage(3, 2)}
    assert merged.usage == TokenUsage(14, 8)
    assert merged.pricing is not None
    assert merged.pricing.by_model["a"].total == pytest.approx(0.303)
    assert merged.pricing.total_cost == pytest.approx(0.333)
    assert merged.emissions_kg_co2eq == pytest.approx(6e-4)
    assert merged.equivalences is not None and merged.equivalences.car_km == pytest.approx(6e-4)
    assert (merged.model, merged.agent, merged.latency_s) == ("a", "V2", 1.5)


def test_the_registry_resolves_types_case_insensitively_and_defaults_to_v2() -> None:
    registry = AgentRegistry(AGENTS, AgentEnvironment())
    assert registry.resolve("") == "V2"
    assert registry.resolve("v1") == "V1"
    with pytest.raises(InvalidArgument, match="Agents available: V1, V2"):
        registry.resolve("nope")
    with pytest.raises(NotFound):
        registry.get_agent("nope")
    assert [a.type for a in registry.list_agents()][:2] == ["V1", "V2"]
