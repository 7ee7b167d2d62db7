"""Non-streamed completions and the usage fallback, shared by the remote providers.

`ChatProvider.stream_chat` is the one required way to call a model. Remote providers also
offer `complete_chat`, which calls the upstream's non-streamed endpoint: the router uses it
for catalog models marked `supports_streaming = false`, and for callers that want the whole
answer anyway (`Complete`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from routeur_grpc.providers.base import ChatProvider, ChatRequest, UsageReport
from routeur_grpc.providers.token_count import TokenCounter


@dataclass(frozen=True, slots=True)
class ChatCompletion:
    """A whole answer and what it used."""

    text: str
    usage: UsageReport


@runtime_checkable
class UnaryChatProvider(ChatProvider, Protocol):
    """A provider that can also call its upstream's non-streamed endpoint."""

    async def complete_chat(self, request: ChatRequest) -> ChatCompletion:
        """The whole answer to `request` in one upstream call."""
        ...


async def counted_usage(
    counter: TokenCounter,
    request: ChatRequest,
    text: str,
    prompt_tokens: int | None = None,
    completion_tokens: int | None = None,
) -> UsageReport:
    """Usage as reported by the upstream, each missing half counted locally."""
    if prompt_tokens is None:
        prompt_tokens = await counter.count_messages(request.model, request.messages)
    if completion_tokens is None:
        completion_tokens = await counter.count_text(request.model, text)
    return UsageReport(prompt_tokens, completion_tokens)
