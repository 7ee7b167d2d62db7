"""What one agent run carries through its graph (the LangGraph runtime context).

The graph is shared; this is the run's own: the request, who asked, its model calls, where
its documents are searched, and the trace of what it did (steps, chunks used, tool calls),
which ends up in the response's metadata.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, TypedDict

from routeur_grpc.domain.completion import (
    AgentStep,
    ChatMessage,
    CompletionRequest,
    SourceChunk,
    ToolStep,
)
from routeur_grpc.domain.documents import ScoredChunk
from routeur_grpc.services.agents.checks import detect_language
from routeur_grpc.services.agents.model_calls import ModelCalls


class DocumentSearch(Protocol):
    """The project documents an agent may read (the caller's own only)."""

    async def retrieve(
        self,
        owner_id: str,
        project_id: str,
        query: str,
        *,
        sources: Sequence[str] = (),
        limit: int = 5,
    ) -> list[ScoredChunk]:
        """The chunks most relevant to `query`, best first; NotFound for a project without
        documents of the caller's, or a source that is not one of them."""
        ...


@dataclass(slots=True)
class AgentTrace:
    steps: list[AgentStep] = field(default_factory=list)
    chunks: list[SourceChunk] = field(default_factory=list)
    tool_calls: list[ToolStep] = field(default_factory=list)
    answer_model: str = ""  # the model whose text the client got last


@dataclass(slots=True)
class AgentRun:
    """The runtime context of one run."""

    request: CompletionRequest
    owner_id: str
    models: ModelCalls
    documents: DocumentSearch | None
    now: datetime  # timezone-aware
    # The provider type serving a model (e.g. `openai`, `local`), for agents that need to
    # know what the model can do.
    provider_of: Callable[[str], Awaitable[str]] | None = None
    trace: AgentTrace = field(default_factory=AgentTrace)
    #: The language of the request's message when it is clear (`fr`, `en`, …), detected
    #: once for the run's prompt, trace and revision.
    language: str | None = field(init=False)

    def __post_init__(self) -> None:
        self.language = detect_language(self.request.message)


class AgentState(TypedDict, total=False):
    """The state the nodes of the built-in agents pass along."""

    messages: list[ChatMessage]  # what the answering model is sent
    answer: str
    problem: str  # why the self-check failed, if it did
