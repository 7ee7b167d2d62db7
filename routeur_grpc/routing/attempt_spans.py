"""The trace span of one upstream attempt, named and labelled by OpenTelemetry's semantic
conventions for generative AI (v1.37): `chat {model}`, a client span carrying the provider,
the model asked and the one that answered, the request's limits, the tokens, and the
error's type when the attempt failed.

The provider SDK's HTTP request is a span of its own, below this one: the attempt's span is
the current one while the attempt opens, which is when the SDK sends the request (and when
the task reading the rest of a stream ahead is started). A retry or a fallback is another
attempt, another span. Without a tracer (tracing off) nothing here runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, Tracer

from routeur_grpc.domain.model_entry import ModelEntry
from routeur_grpc.errors import RouteurError
from routeur_grpc.providers.base import ChatRequest, UsageReport

OPERATION = "chat"
#: `gen_ai.provider.name`'s well-known values, by the catalog's provider family; the other
#: families (`ollama`, `local` for the embedded llama.cpp model) keep their own name.
WELL_KNOWN_PROVIDERS = {
    "openai": "openai",
    "anthropic": "anthropic",
    "gemini": "gcp.gemini",
    "mistral": "mistral_ai",
}
#: Routeur's own attributes: the provider instance (the metrics' `gen_ai_provider_name`
#: label) and the catalog's model name (an alias resolved).
PROVIDER_INSTANCE = "routeur.provider"
CATALOG_MODEL = "routeur.model"


def start_attempt_span(
    tracer: Tracer, entry: ModelEntry, provider_name: str, chat: ChatRequest
) -> Span:
    attributes: dict[str, str | int | float | list[str]] = {
        "gen_ai.operation.name": OPERATION,
        "gen_ai.provider.name": WELL_KNOWN_PROVIDERS.get(entry.provider, entry.provider),
        "gen_ai.request.model": chat.model,
        PROVIDER_INSTANCE: provider_name,
        CATALOG_MODEL: entry.name,
    }
    if chat.max_tokens is not None:
        attributes["gen_ai.request.max_tokens"] = chat.max_tokens
    if chat.temperature is not None:
        attributes["gen_ai.request.temperature"] = chat.temperature
    for name in chat.sampling.given():
        value = getattr(chat.sampling, name)
        if name == "stop":
            attributes["gen_ai.request.stop_sequences"] = list(value)
        else:
            attributes[f"gen_ai.request.{name}"] = value
    return tracer.start_span(
        f"{OPERATION} {chat.model}", kind=SpanKind.CLIENT, attributes=attributes
    )


@contextmanager
def current(span: Span | None) -> Iterator[None]:
    """`span` as the current span within the block (nothing when None)."""
    if span is None:
        yield
        return
    token = otel_context.attach(trace.set_span_in_context(span))
    try:
        yield
    finally:
        otel_context.detach(token)


def record_failure(span: Span | None, error: RouteurError) -> None:
    """The attempt failed: its error type is the reason clients see (`UPSTREAM_TIMEOUT`...).
    An attempt abandoned (the client went away) is not a failure."""
    if span is None:
        return
    span.set_attribute("error.type", error.reason)
    span.set_status(Status(StatusCode.ERROR))


def end_attempt_span(span: Span | None, response_model: str, usage: UsageReport | None) -> None:
    """The attempt is over: the model that answered ("" when none did) and, when reported,
    its tokens."""
    if span is None:
        return
    if response_model:
        span.set_attribute("gen_ai.response.model", response_model)
    if usage is not None:
        span.set_attribute("gen_ai.usage.input_tokens", usage.prompt_tokens)
        span.set_attribute("gen_ai.usage.output_tokens", usage.completion_tokens)
    span.end()
