"""One upstream attempt: open a deployment's stream, read it within its timeouts, judge it.

The runner is the one place that decides what an attempt's ending means for the
deployment's circuit breaker (`record_verdict`):
- a first piece of text, or a first tool call (a model offered tools may answer with calls
  only): success;
- an error that is the deployment's fault (`deployments.is_deployment_failure`: 5xx, 429,
  timeouts, malformed or empty answers): failure;
- anything else — the caller's mistake, the caller's own limits (`errors.CallerRefused`),
  the caller's deadline, a cancellation: abandoned, no verdict.

It also turns what a provider may let through into Routeur errors, so that nothing an
upstream sends becomes INTERNAL or is blamed on the caller:
- a stream that ends, or reports its usage, before any text or tool call is an empty
  answer;
- an exception that is not a `RouteurError` (a provider's parser choking on bad JSON, an SSE
  body where JSON was expected) is a malformed answer;
- silence longer than the deployment's first-token or between-tokens timeout is the
  upstream's timeout, unless the caller's own deadline came first.

Time is read only from the injected clock.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import cast

from opentelemetry.trace import Tracer

from routeur_grpc.domain.completion import ChatMessage, CompletionRequest
from routeur_grpc.domain.model_entry import ModelEntry
from routeur_grpc.domain.provider_spec import (
    DEFAULT_BETWEEN_TOKENS_TIMEOUT_S,
    DEFAULT_FIRST_TOKEN_TIMEOUT_S,
)
from routeur_grpc.errors import RouteurError
from routeur_grpc.providers.base import (
    ChatEvent,
    ChatProvider,
    ChatRequest,
    TextDelta,
    ToolCallRequested,
)
from routeur_grpc.providers.unary import UnaryChatProvider
from routeur_grpc.providers.upstream_errors import empty_answer, malformed, timed_out
from routeur_grpc.read_ahead import joined_when_ready
from routeur_grpc.routing.attempt import Attempt, unary_events
from routeur_grpc.routing.attempt_spans import (
    current,
    end_attempt_span,
    record_failure,
    start_attempt_span,
)
from routeur_grpc.routing.deployments import Deployment, is_deployment_failure
from routeur_grpc.routing.retry import Clock
from routeur_grpc.routing.route_errors import CallerDeadlineExceeded, caller_deadline_exceeded
from routeur_grpc.routing.silence_watch import SilenceWatch
from routeur_grpc.structured_logging import describe_exception

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class UpstreamTimeouts:
    """How long a provider instance may stay silent (see `domain.provider_spec`)."""

    first_token_s: float = DEFAULT_FIRST_TOKEN_TIMEOUT_S
    between_tokens_s: float = DEFAULT_BETWEEN_TOKENS_TIMEOUT_S


def record_verdict(deployment: Deployment, error: BaseException | None) -> None:
    """Tell the deployment's breaker how an attempt ended (the one place that decides)."""
    if error is None:
        deployment.breaker.record_success()
    elif is_deployment_failure(error):
        deployment.breaker.record_failure()
    else:
        deployment.breaker.record_abandoned()


class AttemptRunner:
    """Opens and reads one deployment's answer within the caller's deadline and its timeouts."""

    def __init__(
        self,
        clock: Clock,
        timeouts: Mapping[str, UpstreamTimeouts] | None = None,
        default_timeouts: UpstreamTimeouts | None = None,
        tracer: Tracer | None = None,
    ) -> None:
        """`timeouts`: per provider instance name; others get `default_timeouts`. With a
        `tracer`, each attempt is a span (`attempt_spans`)."""
        self._clock = clock
        self._timeouts = dict(timeouts or {})
        self._default = default_timeouts or UpstreamTimeouts()
        self._tracer = tracer

    def set_timeouts(self, provider: str, timeouts: UpstreamTimeouts) -> None:
        self._timeouts[provider] = timeouts

    def timeouts_of(self, provider: str) -> UpstreamTimeouts:
        return self._timeouts.get(provider, self._default)

    async def open(
        self,
        entry: ModelEntry,
        deployment: Deployment,
        request: CompletionRequest,
        messages: list[ChatMessage],
        deadline: float | None,
        prefer_unary: bool = False,
    ) -> Attempt:
        """The deployment's stream, once its first piece of text (or tool call) has arrived.

        Raises a `RouteurError`: the deployment's failure (the breaker has counted it) or
        the caller's (it has not). The provider stream is closed on every failure.
        """
        chat = ChatRequest(
            model=deployment.upstream_model,
            messages=messages,
            temperature=request.temperature,
            max_tokens=request.max_tokens,
            tools=request.tools,
            tool_choice=request.tool_choice,
            sampling=request.sampling,
        )
        events = _events(entry, deployment.provider, chat, prefer_unary)
        watch = SilenceWatch()
        span = (
            start_attempt_span(self._tracer, entry, deployment.provider.name, chat)
            if self._tracer is not None
            else None
        )
        deployment.in_flight += 1
        started = self._clock.monotonic()
        limit = self.timeouts_of(deployment.provider.name).first_token_s
        try:
            with current(span):  # the SDK's request, sent now, is the span's child
                first = await self._read(
                    watch, events, deadline, limit, deployment, entry, "first"
                )
            if not isinstance(first, TextDelta | ToolCallRequested):
                raise empty_answer(deployment.provider.name)
        except BaseException as error:
            deployment.in_flight -= 1
            watch.close()
            try:
                await events.aclose()  # type: ignore[attr-defined]
            finally:
                if isinstance(error, RouteurError):
                    record_failure(span, error)
                end_attempt_span(span, "", None)  # nothing answered
            record_verdict(deployment, error)
            if isinstance(error, RouteurError) and is_deployment_failure(error):
                log.warning(
                    "upstream attempt failed",
                    extra={"deployment": deployment.id, "reason": error.reason},
                )
            raise
        record_verdict(deployment, None)
        return Attempt(entry, deployment, chat, events, started, first, watch, span=span)

    async def next_event(self, attempt: Attempt, deadline: float | None) -> ChatEvent | None:
        """The attempt's next event (None at its end), within the between-tokens timeout.

        Once text has reached the client nothing is retried, so a failure here is only
        reported; a deployment failure still counts against its breaker.
        """
        limit = self.timeouts_of(attempt.deployment.provider.name).between_tokens_s
        try:
            return await self._read(
                attempt.watch, attempt.events, deadline, limit, attempt.deployment,
                attempt.entry, "next",
            )
        except RouteurError as error:
            if is_deployment_failure(error):
                attempt.deployment.breaker.record_failure()
            record_failure(attempt.span, error)
            raise

    async def _read(
        self,
        watch: SilenceWatch,
        events: AsyncIterator[ChatEvent],
        deadline: float | None,
        limit_s: float,
        deployment: Deployment,
        entry: ModelEntry,
        which: str,
    ) -> ChatEvent | None:
        """One event, as a Routeur error if the upstream fails, stalls or talks nonsense."""
        now = self._clock.monotonic()
        upstream_limit = now + limit_s
        caller_first = deadline is not None and deadline <= upstream_limit
        until = deadline if caller_first and deadline is not None else upstream_limit
        provider = deployment.provider.name
        try:
            return await watch.read(events, until - now)
        except TimeoutError:
            if caller_first:
                raise caller_deadline_exceeded(entry) from None
            what = (
                f"sent no text within {limit_s:g} s"
                if which == "first"
                else f"stalled for more than {limit_s:g} s in the middle of its answer"
            )
            raise timed_out(provider, what) from None
        except RouteurError as error:
            if (
                deadline is not None
                and self._clock.monotonic() >= deadline
                and not isinstance(error, CallerDeadlineExceeded)
            ):
                raise caller_deadline_exceeded(None) from error
            raise
        except Exception as error:
            log.warning(
                "malformed upstream answer",
                extra={"deployment": deployment.id, **describe_exception(error)},
            )
            raise malformed(provider) from error


def _events(
    entry: ModelEntry, provider: ChatProvider, chat: ChatRequest, prefer_unary: bool
) -> AsyncIterator[ChatEvent]:
    # Tool calls come through providers' streaming endpoints only.
    unary = (prefer_unary or not entry.supports_streaming) and not chat.tools
    if unary and _answers_unary(type(provider)):
        return unary_events(cast(UnaryChatProvider, provider), chat)
    # Read ahead: text that arrived together crosses the layers above as one event.
    return joined_when_ready(provider.stream_chat(chat), _is_text, _joined_text)


@functools.cache
def _answers_unary(provider_type: type[ChatProvider]) -> bool:
    """Whether a provider of this class is a `UnaryChatProvider`: checked once per class, as
    `isinstance` against a protocol walks its members each time (13 µs, on every call)."""
    return callable(getattr(provider_type, "complete_chat", None))


def _is_text(event: ChatEvent) -> bool:
    return isinstance(event, TextDelta)


def _joined_text(run: list[ChatEvent]) -> ChatEvent:
    return TextDelta("".join(event.text for event in run))  # type: ignore[union-attr]
