"""The agents: the catalog's agents in their registry, and the runner completions use."""

from __future__ import annotations

from routeur_grpc.routing.router import ModelRouter
from routeur_grpc.services.agents.catalog import AGENTS
from routeur_grpc.services.agents.registry import AgentEnvironment, AgentRegistry
from routeur_grpc.services.agents.runner import AgentRunner
from routeur_grpc.services.documents import DocumentService
from routeur_grpc.settings import Settings


def agent_registry() -> AgentRegistry:
    return AgentRegistry(AGENTS, AgentEnvironment())


def agent_runner(
    settings: Settings, agents: AgentRegistry, router: ModelRouter, documents: DocumentService
) -> AgentRunner:
    """Runs an agent's model calls through the router, grounded in project documents."""
    return AgentRunner(
        agents,
        router.stream,
        currency=settings.currency,
        documents=documents,
        provider_of=router.provider_of,
    )
