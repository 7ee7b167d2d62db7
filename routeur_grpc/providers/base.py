"""The one small interface every model provider implements.

A provider streams first: `stream_chat` is an async generator of `TextDelta`s (and, when
the request offers tools, `ToolCallRequested`s) followed by exactly one `UsageReport`
(counted locally when the upstream does not report it). A non-streamed answer is the same
stream, collected.

Contract for implementations:
- Raise only `routeur_grpc.errors.RouteurError` subclasses, mapped from the SDK's own
  exception types through a small table, never by matching message text.
- When the consumer stops iterating (`aclose()`, or the task is cancelled), close the upstream
  request at once: close the SDK stream, do not merely stop reading it.
- Send every parameter of the request in the API's own format, or refuse it
  (`providers.sampling`): never drop one silently.
- Do not retry inside the provider: SDK retries are turned off and the router owns one retry
  policy for everybody.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from routeur_grpc.domain.completion import (
    AUTO_TOOL_CHOICE,
    NO_SAMPLING,
    ChatMessage,
    Sampling,
    ToolCall,
    ToolChoice,
    ToolSpec,
)


@dataclass(frozen=True, slots=True)
class ChatRequest:
    """What a provider is asked to do, in terms of its own model id."""

    model: str
    messages: Sequence[ChatMessage]
    temperature: float | None = None
    max_tokens: int | None = None
    # Tools the model may call. Providers that support tool calls send them, and
    # `tool_choice`, in their own format and report the calls as `ToolCallRequested` events;
    # the others refuse them (`InvalidArgument`, reason UNSUPPORTED_PARAMETER).
    tools: Sequence[ToolSpec] = ()
    tool_choice: ToolChoice = AUTO_TOOL_CHOICE
    # Sent in the provider's own format; one it cannot send raises `InvalidArgument`
    # (see `unsupported_sampling`) before anything reaches the upstream.
    sampling: Sampling = NO_SAMPLING


@dataclass(frozen=True, slots=True)
class TextDelta:
    """A piece of generated text, as soon as the provider produced it."""

    text: str


@dataclass(frozen=True, slots=True)
class UsageReport:
    """Tokens read and written, sent once at the end of a stream."""

    prompt_tokens: int
    completion_tokens: int
    #: CPU seconds this process spent generating (in-process models only; None otherwise).
    cpu_s: float | None = None


@dataclass(frozen=True, slots=True)
class ToolCallRequested:
    """The model asks for a tool call (whole: streamed arguments are put together first)."""

    call: ToolCall


ChatEvent = TextDelta | ToolCallRequested | UsageReport


@dataclass(frozen=True, slots=True)
class ProviderModel:
    """A model as a provider knows it."""

    name: str
    description: str = ""
    context_window: int = 0
    supports_streaming: bool = True


@runtime_checkable
class ChatProvider(Protocol):
    """A source of chat completions: a remote API, a local server or an in-process model."""

    @property
    def name(self) -> str:
        """This provider instance's name, unique in the registry (e.g. `local`, `openai`)."""
        ...

    def stream_chat(self, request: ChatRequest) -> AsyncIterator[ChatEvent]:
        """Stream the answer to `request`: text deltas, then one usage report."""
        ...

    async def list_models(self) -> list[ProviderModel]:
        """The models this provider can serve right now."""
        ...

    async def aclose(self) -> None:
        """Release connections, threads and memory."""
        ...
