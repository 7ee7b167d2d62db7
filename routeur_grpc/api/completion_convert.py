"""Completion messages: protobuf to domain and back."""

from __future__ import annotations

from google.protobuf.message import Message
from routeur.v1 import accounting_pb2, completion_service_pb2

from routeur_grpc.api.rpc_status import to_rpc_status
from routeur_grpc.domain.completion import (
    ChatMessage,
    CompletionChunk,
    CompletionMetadata,
    CompletionRequest,
    CompletionResult,
    Sampling,
    TokenUsage,
    round_footprint,
)

CompletionRequestMessage = (
    completion_service_pb2.CompleteRequest | completion_service_pb2.StreamCompletionRequest
)


def completion_request(message: CompletionRequestMessage) -> CompletionRequest:
    """The domain request. Both request messages have the same fields."""
    return CompletionRequest(
        message=message.message or message.prompt,
        model=message.model,
        agent=message.agent,
        temperature=message.temperature if message.HasField("temperature") else None,
        max_tokens=message.max_tokens if message.HasField("max_tokens") else None,
        history=tuple(
            ChatMessage(turn.role, turn.content)  # type: ignore[arg-type] - validated later
            for turn in message.conversation_history
        ),
        conversation_id=message.conversation_id,
        project_id=message.project_id,
        sources=tuple(message.sources),
        allow_fallback=message.allow_fallback,
        sampling=sampling_of(message, stop=tuple(message.stop)),
    )


def sampling_of(message: Message, stop: tuple[str, ...]) -> Sampling:
    """The sampling parameters of a request (every request message names them alike)."""

    def optional(name: str) -> float | None:
        return getattr(message, name) if message.HasField(name) else None

    seed = optional("seed")
    return Sampling(
        top_p=optional("top_p"),
        stop=stop,
        seed=None if seed is None else int(seed),
        presence_penalty=optional("presence_penalty"),
        frequency_penalty=optional("frequency_penalty"),
    )


def complete_response(result: CompletionResult) -> completion_service_pb2.CompleteResponse:
    response = completion_service_pb2.CompleteResponse(
        response=result.response,
        model=result.model,
        agent=result.agent,
        usage=accounting_pb2.TokenUsage(
            prompt_tokens=result.usage.prompt_tokens,
            completion_tokens=result.usage.completion_tokens,
            total_tokens=result.usage.total_tokens,
        ),
    )
    fill_metadata(response.metadata, result.metadata)
    return response


def stream_response(chunk: CompletionChunk) -> completion_service_pb2.StreamCompletionResponse:
    response = completion_service_pb2.StreamCompletionResponse(
        content=chunk.content, done=chunk.done
    )
    if chunk.metadata is not None:
        if chunk.done:
            fill_metadata(response.metadata, chunk.metadata)
        else:
            _fill_label(response.metadata, chunk.metadata)
            if chunk.metadata.fallback_reason:
                response.metadata.requested_model = chunk.metadata.requested_model
                response.metadata.fallback_reason = chunk.metadata.fallback_reason
    if chunk.error is not None:
        response.error.CopyFrom(to_rpc_status(chunk.error))
    return response


def fill_metadata(target: accounting_pb2.CompletionMetadata, source: CompletionMetadata) -> None:
    """Every accounting field known for a finished completion."""
    _fill_label(target, source)
    if source.requested_model:
        target.requested_model = source.requested_model
    if source.fallback_reason:
        target.fallback_reason = source.fallback_reason
    for attempt in source.attempts:
        target.attempts.add(
            model=attempt.model, provider=attempt.provider, error_reason=attempt.error_reason
        )
    if source.cache_hit:
        target.cache_hit = True
    target.message_count = source.message_count
    target.latency_s = source.latency_s
    target.usage.CopyFrom(model_usage(source.usage))
    for model, usage in source.usage_by_model.items():
        target.usage_by_model[model].CopyFrom(model_usage(usage))
    if source.emissions_kg_co2eq is not None:
        target.emissions_kgCO2eq = source.emissions_kg_co2eq
        target.emissions_gCO2eq = round_footprint(source.emissions_kg_co2eq * 1000)
    if source.energy_kwh is not None:
        target.energy_kwh = source.energy_kwh
    if source.pricing is not None:
        target.pricing.currency = source.pricing.currency
        target.pricing.total_cost = source.pricing.total_cost
        for model, cost in source.pricing.by_model.items():
            target.pricing.by_model[model].CopyFrom(
                accounting_pb2.ModelCost(input=cost.input, output=cost.output, total=cost.total)
            )
    for step in source.steps:
        target.steps.add(name=step.name, model=step.model, detail=step.detail)
    for chunk in source.chunks:
        target.chunks.add(
            document_id=chunk.document_id,
            offset=chunk.offset,
            length=chunk.length,
            score=chunk.score,
            title=chunk.title,
        )
    for call in source.tool_calls:
        target.tool_calls.add(
            name=call.name, arguments=call.arguments, result=call.result, error=call.error
        )
    if source.equivalences is not None:
        equivalences = source.equivalences
        target.equivalences.CopyFrom(
            accounting_pb2.Equivalences(
                water_liters=equivalences.water_liters,
                car_km=equivalences.car_km,
                tgv_km=equivalences.tgv_km,
                smartphone_charges=equivalences.smartphone_charges,
            )
        )


def model_usage(usage: TokenUsage) -> accounting_pb2.ModelUsage:
    return accounting_pb2.ModelUsage(
        input_tokens=usage.prompt_tokens,
        output_tokens=usage.completion_tokens,
        total_tokens=usage.total_tokens,
    )


def _fill_label(target: accounting_pb2.CompletionMetadata, source: CompletionMetadata) -> None:
    """What every chunk carries: which model is answering, and the agent asked for (echoed,
    empty when none)."""
    target.model = source.model
    target.agent = source.agent
