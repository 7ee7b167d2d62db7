"""The agent registry: which agents a completion may name, and their compiled graphs.

An agent is an `AgentDefinition` (type, name, description, a graph builder, and whether it
can be used here); `catalog.AGENTS` lists them. Graphs are compiled once, when the registry
is built, and shared by every run (a run's own data travels in the LangGraph runtime
context, never in the graph). Every node and every branch of a graph is a coroutine
function: LangGraph runs a plain function in the event loop's thread pool, a hop to another
thread and back on every request.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from routeur_grpc.errors import InvalidArgument, NotFound

#: The agent of a completion that names none (the CAPL Routeur IA API's default).
DEFAULT_AGENT = "V2"
#: How many agent types an "unknown agent" error lists.
MAX_TYPES_IN_ERRORS = 20
#: How much of an unknown agent's name an error repeats.
MAX_NAME_IN_ERRORS = 40


@dataclass(frozen=True, slots=True)
class AgentEnvironment:
    """What is configured here, for agents to say whether they can run."""

    documents: bool = True  # a document store is wired


@dataclass(frozen=True, slots=True)
class AgentDefinition:
    """One agent: what callers see of it, and how to build its graph."""

    type: str  # what a completion's `agent` names, e.g. `V2`
    name: str
    description: str
    build_graph: Callable[[], Any]  # returns a compiled LangGraph graph
    is_available: Callable[[AgentEnvironment], bool] = lambda environment: True
    # Whether the same request always gets the same answer from the same model (a clock
    # tool, for one, makes it not): only then may an answer be served from the cache.
    repeatable: bool = True


@dataclass(frozen=True, slots=True)
class AgentInfo:
    """An agent as listed (`AgentService`)."""

    type: str
    name: str
    description: str
    available: bool


class AgentRegistry:
    """The registered agents, by type (case-insensitive)."""

    def __init__(
        self, definitions: Sequence[AgentDefinition], environment: AgentEnvironment
    ) -> None:
        self._definitions = {d.type.casefold(): d for d in definitions}
        if len(self._definitions) != len(definitions):
            raise ValueError("two agents share a type")
        self._graphs = {key: d.build_graph() for key, d in self._definitions.items()}
        self._available = {
            key: d.is_available(environment) for key, d in self._definitions.items()
        }

    def list_agents(self) -> list[AgentInfo]:
        return [self._info(key) for key in self._definitions]

    def get_agent(self, agent_type: str) -> AgentInfo:
        """NotFound for an unknown type (the agents' list is public, so the message lists it)."""
        key = agent_type.casefold()
        if key not in self._definitions:
            raise NotFound(f"No agent of type {_shown(agent_type)}. {self._known()}")
        return self._info(key)

    def resolve(self, agent_type: str) -> str:
        """The canonical type of `agent_type` (DEFAULT_AGENT when empty).

        InvalidArgument for an unknown or unavailable agent, listing those that can be used.
        """
        key = (agent_type or DEFAULT_AGENT).casefold()
        definition = self._definitions.get(key)
        if definition is None:
            raise InvalidArgument(
                f"`agent` {_shown(agent_type)} is not an agent here. {self._known()}"
            )
        if not self._available[key]:
            raise InvalidArgument(
                f"Agent {definition.type!r} is not available here. {self._known()}"
            )
        return definition.type

    def is_repeatable(self, agent_type: str) -> bool:
        return self._definitions[agent_type.casefold()].repeatable

    def graph(self, agent_type: str) -> Any:
        return self._graphs[agent_type.casefold()]

    def _info(self, key: str) -> AgentInfo:
        d = self._definitions[key]
        return AgentInfo(d.type, d.name, d.description, self._available[key])

    def _known(self) -> str:
        usable = [d.type for key, d in self._definitions.items() if self._available[key]]
        shown = ", ".join(usable[:MAX_TYPES_IN_ERRORS]) or "none"
        more = ", …" if len(usable) > MAX_TYPES_IN_ERRORS else ""
        return f"Agents available: {shown}{more} (or leave `agent` empty for {DEFAULT_AGENT})."


def _shown(name: str) -> str:
    if len(name) > MAX_NAME_IN_ERRORS:
        return repr(name[:MAX_NAME_IN_ERRORS]) + "…"
    return repr(name)
