"""The model router: finds who serves a model, streams the answer, accounts for it.

Foundation version: each model is served by exactly one provider, found by asking every
provider for its models at start. Catalog, deployments, fallbacks, retries and pricing
build on this interface.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Sequence
from contextlib import aclosing
from dataclasses import dataclass

from routeur_grpc.domain.completion import (
    CompletionChunk,
    CompletionMetadata,
    CompletionRequest,
    TokenUsage,
)
from routeur_grpc.domain.models import ModelInfo
from routeur_grpc.errors import InvalidArgument, RouteurError
from routeur_grpc.providers.base import ChatProvider, ChatRequest, TextDelta, UsageReport


@dataclass(frozen=True, slots=True)
class _Route:
    model: ModelInfo
    provider: ChatProvider


class ModelRouter:
    """Routes completion requests to providers."""

    def __init__(self, providers: Sequence[ChatProvider], provider_types: dict[str, str]) -> None:
        """`provider_types` maps each provider's name to its type (e.g. `local`)."""
        self._providers = list(providers)
        self._provider_types = provider_types
        self._routes: dict[str, _Route] = {}

    async def start(self) -> None:
        """Index the models every provider serves."""
        for provider in self._providers:
            for model in await provider.list_models():
                info = ModelInfo(
                    name=model.name,
                    provider=self._provider_types[provider.name],
                    description=model.description,
                    context_window=model.context_window,
                    supports_streaming=model.supports_streaming,
                )
                self._routes.setdefault(model.name, _Route(info, provider))

    async def list_models(self) -> list[ModelInfo]:
        return [route.model for route in self._routes.values()]

    async def get_model(self, name: str) -> ModelInfo:
        return self._route(name).model

    def _route(self, name: str) -> _Route:
        route = self._routes.get(name)
        if route is None:
            known = ", ".join(sorted(self._routes)) or "none"
            raise InvalidArgument(
                f"Unknown model {name!r}. Models available: {known} (see ListModels).",
                reason="UNKNOWN_MODEL",
                metadata={"model": name},
            )
        return route

    async def stream(
        self, request: CompletionRequest, *, deadline: float | None = None
    ) -> AsyncIterator[CompletionChunk]:
        """Content chunks, then one `done` chunk with the accounting.

        `deadline` is the caller's deadline on the `time.monotonic()` clock, if any. An
        error before the first chunk is raised; after it, it ends the stream as the `error`
        of the last chunk, since the client has already received part of the answer.
        """
        started = time.monotonic()
        route = self._route(request.model)
        messages = request.messages()
        chat = ChatRequest(
            model=route.model.name,
            messages=messages,
            temperature=request.temperature,
            max_tokens=request.max_tokens,
        )
        label = CompletionMetadata(model=route.model.name, agent=request.agent)
        usage = TokenUsage()
        sent_any = False
        error: RouteurError | None = None
        async with aclosing(route.provider.stream_chat(chat)) as events:
            try:
                async for event in events:
                    if isinstance(event, TextDelta):
                        sent_any = True
                        yield CompletionChunk(content=event.text, metadata=label)
                    elif isinstance(event, UsageReport):
                        usage = TokenUsage(event.prompt_tokens, event.completion_tokens)
            except RouteurError as failure:
                if not sent_any:
                    raise
                error = failure
        yield CompletionChunk(
            done=True,
            error=error,
            metadata=CompletionMetadata(
                model=route.model.name,
                agent=request.agent,
                message_count=len(messages),
                latency_s=round(time.monotonic() - started, 6),
                usage=usage,
                usage_by_model={route.model.name: usage},
            ),
        )

    async def aclose(self) -> None:
        for provider in self._providers:
            await provider.aclose()
