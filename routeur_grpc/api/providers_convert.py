"""Provider administration messages: protobuf to domain and back. Keys go in, never out."""

from __future__ import annotations

from collections.abc import Iterable

from routeur.v1 import provider_service_pb2 as pb

from routeur_grpc.api.timestamps import timestamp
from routeur_grpc.domain.provider_admin import (
    InstalledModel,
    ProviderInput,
    ProviderOptions,
    ProviderSyncResult,
    ProviderTestResult,
    ProviderView,
    PullStep,
)

BYTES_PER_MB = 1024 * 1024


def provider_input(message: pb.Provider, mask_paths: Iterable[str] = ()) -> ProviderInput:
    """What an admin sent. An empty mask changes every field but the key, unless one is
    given (a form re-sent without its key keeps it); a mask naming `api_key` with an empty
    key removes it."""
    fields = frozenset(_field(path) for path in mask_paths)
    config = message.config
    api_key: str | None = message.api_key or config.api_key
    if not api_key and "api_key" not in fields:
        api_key = None
    return ProviderInput(
        provider_type=message.provider_type,
        name=message.name,
        api_key=api_key,
        base_url=message.base_url or config.base_url,
        model=message.model or config.model,
        options=ProviderOptions(
            temperature=config.temperature if config.HasField("temperature") else None,
            max_tokens=config.max_tokens if config.HasField("max_tokens") else None,
            timeout_s=config.timeout if config.HasField("timeout") else None,
        ),
        enabled=message.enabled if message.HasField("enabled") else True,
        fields=fields,
    )


def _field(path: str) -> str:
    """The provider field a mask path changes (`config.base_url` is `base_url`)."""
    head, _, rest = path.partition(".")
    return rest if head == "config" and rest in ("base_url", "model", "api_key") else head


def provider(view: ProviderView) -> pb.Provider:
    options = pb.ProviderOptions()
    if view.options.temperature is not None:
        options.temperature = view.options.temperature
    if view.options.max_tokens is not None:
        options.max_tokens = view.options.max_tokens
    if view.options.timeout_s is not None:
        options.timeout = view.options.timeout_s
    return pb.Provider(
        provider_id=view.provider_id,
        provider_type=view.provider_type,
        name=view.name,
        api_key_masked=view.api_key_masked,
        base_url=view.base_url,
        model=view.model,
        config=options,
        enabled=view.enabled,
        created_at=timestamp(view.create_time),
        updated_at=timestamp(view.update_time),
        read_only=view.read_only,
        models=view.models,
    )


def test_result(result: ProviderTestResult) -> pb.TestProviderResponse:
    return pb.TestProviderResponse(
        ok=result.ok,
        message=result.message,
        model=result.model,
        latency_s=result.latency_s,
        response_excerpt=result.response_excerpt,
        models=result.models,
    )


def sync_result(result: ProviderSyncResult) -> pb.ProviderSyncResult:
    return pb.ProviderSyncResult(
        provider_id=result.provider_id,
        name=result.name,
        ok=result.ok,
        models=result.models,
        message=result.message,
    )


def ollama_model(model: InstalledModel) -> pb.OllamaModel:
    return pb.OllamaModel(
        name=model.name,
        size_mb=model.size_bytes / BYTES_PER_MB,
        digest=model.digest,
        modified_at=timestamp(model.modified_at),
        parameter_size=model.parameter_size,
        family=model.family,
    )


def pull_step(step: PullStep) -> pb.PullOllamaModelResponse:
    return pb.PullOllamaModelResponse(
        status=step.status,
        digest=step.digest,
        total_bytes=step.total_bytes,
        completed_bytes=step.completed_bytes,
        percent=step.percent,
    )
