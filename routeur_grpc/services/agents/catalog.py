"""The agents this Routeur offers: one line per agent.

To add an agent, write its module (a graph builder and an `AGENT` definition, like `v1.py`)
and add its `AGENT` here.
"""

from __future__ import annotations

from routeur_grpc.services.agents import rag, tools_agent, v1, v2
from routeur_grpc.services.agents.registry import AgentDefinition

AGENTS: tuple[AgentDefinition, ...] = (
    v1.AGENT,
    v2.AGENT,
    rag.AGENT,
    tools_agent.AGENT,
)
