"""One deployment's answer in progress, as the router holds it once it has started."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from opentelemetry.trace import Span

from routeur_grpc.domain.model_entry import ModelEntry
from routeur_grpc.providers.base import ChatEvent, ChatRequest, TextDelta, UsageReport
from routeur_grpc.providers.unary import UnaryChatProvider
from routeur_grpc.routing.attempt_spans import end_attempt_span
from routeur_grpc.routing.deployments import Deployment
from routeur_grpc.routing.silence_watch import SilenceWatch


@dataclass(eq=False, slots=True)
class Attempt:
    """A deployment's stream that has produced its first event."""

    entry: ModelEntry
    deployment: Deployment
    chat: ChatRequest
    events: AsyncIterator[ChatEvent]
    started: float
    first: ChatEvent | None
    watch: SilenceWatch  # limits each read of `events`
    parts: list[str] = field(default_factory=list)
    usage: UsageReport | None = None
    closed: bool = False
    span: Span | None = None  # its trace span, when tracing is on

    async def close(self) -> None:
        """Close the provider stream (and with it the upstream request), once."""
        if self.closed:
            return
        self.closed = True
        self.deployment.in_flight -= 1
        self.watch.close()
        try:
            await self.events.aclose()  # type: ignore[attr-defined]
        finally:
            end_attempt_span(self.span, self.deployment.upstream_model, self.usage)


async def unary_events(provider: UnaryChatProvider, chat: ChatRequest) -> AsyncIterator[ChatEvent]:
    """A non-streamed upstream call, seen as a stream of one piece."""
    result = await provider.complete_chat(chat)
    if result.text:
        yield TextDelta(result.text)
    yield result.usage
