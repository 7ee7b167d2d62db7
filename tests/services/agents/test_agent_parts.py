"""The agents' parts without the transport: V2's checks, the registry and the graphs' steps.

(An agent's several model calls share the router's usage ledger; their sum is asserted end
to end, in test_agents_end_to_end.py.)"""

from __future__ import annotations

import pytest

from routeur_grpc.errors import InvalidArgument, NotFound
from routeur_grpc.services.agents.catalog import AGENTS
from routeur_grpc.services.agents.checks import check_answer, detect_language
from routeur_grpc.services.agents.registry import AgentDefinition, AgentEnvironment, AgentRegistry


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


def test_the_registry_resolves_types_case_insensitively_and_defaults_to_v2() -> None:
    registry = AgentRegistry(AGENTS, AgentEnvironment())
    assert registry.resolve("") == "V2"
    assert registry.resolve("v1") == "V1"
    with pytest.raises(InvalidArgument, match="Agents available: V1, V2"):
        registry.resolve("nope")
    with pytest.raises(NotFound):
        registry.get_agent("nope")
    assert [a.type for a in registry.list_agents()][:2] == ["V1", "V2"]


@pytest.mark.parametrize("agent", AGENTS, ids=lambda agent: agent.type)
def test_every_step_of_an_agent_runs_on_the_event_loop(agent: AgentDefinition) -> None:
    # LangGraph runs a node or a branch written as a plain function in a thread pool.
    graph = agent.build_graph().builder
    steps = {name: spec.runnable for name, spec in graph.nodes.items()}
    steps |= {
        f"{source} → {name}": branch.path
        for source, branches in graph.branches.items()
        for name, branch in branches.items()
    }
    in_threads = [name for name, step in steps.items() if step.func is not None]
    assert in_threads == []
