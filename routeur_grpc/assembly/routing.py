"""Providers and the router: the configured providers (the embedded model first), the
router over them, the providers administrators add at run time, and their administration.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from opentelemetry.trace import Tracer

from routeur_grpc.assembly.health import always_healthy, circuit_check
from routeur_grpc.domain.repositories import Store
from routeur_grpc.providers.base import ChatProvider
from routeur_grpc.providers.local_llama import (
    LocalLlamaProvider,
    LocalModelConfig,
    bundled_model_path,
)
from routeur_grpc.providers.token_count import TokenCounter
from routeur_grpc.routing.attempt_runner import UpstreamTimeouts
from routeur_grpc.routing.provider_factory import build_provider
from routeur_grpc.routing.retry import RetryPolicy
from routeur_grpc.routing.router import ModelRouter, RouterConfig
from routeur_grpc.services.health import HealthCheck
from routeur_grpc.services.provider_admin import ProviderAdmin
from routeur_grpc.services.runtime_providers import RuntimeProviders
from routeur_grpc.settings import Settings
from routeur_grpc.storage.secret_box import SecretBox


@dataclass
class Routing:
    """The started router and what was built for it."""

    providers: list[ChatProvider]
    provider_types: dict[str, str]  # configured provider name -> type ("local", "openai"...)
    counter: TokenCounter
    router: ModelRouter
    checks: dict[str, HealthCheck] = field(default_factory=dict)  # local model, circuits


async def start_routing(settings: Settings, tracer: Tracer | None = None) -> Routing:
    """Start the embedded model (if enabled), build every enabled provider, start the router
    (`tracer`: each upstream attempt is a span, when the server traces)."""
    providers: list[ChatProvider] = []
    provider_types: dict[str, str] = {}
    checks: dict[str, HealthCheck] = {}
    if settings.local_model_enabled:
        local = LocalLlamaProvider(
            LocalModelConfig(
                name=settings.local_model_name,
                path=settings.local_model_path or bundled_model_path(),
                context_window=settings.local_model_context,
                threads=settings.local_model_threads,
                instances=settings.local_model_instances,
                default_max_tokens=settings.local_model_max_tokens,
            )
        )
        await local.start()
        providers.append(local)
        provider_types[local.name] = "local"
        checks["local_model"] = always_healthy
    counter = TokenCounter()
    for spec in settings.providers:
        if spec.enabled:
            providers.append(build_provider(spec, counter))
            provider_types[spec.name] = spec.type
    router = ModelRouter(
        providers, provider_types, router_config(settings), token_counter=counter, tracer=tracer
    )
    await router.start()
    for provider in providers:
        if provider_types[provider.name] != "local":  # `local_model` reports that one
            checks[f"provider:{provider.name}"] = circuit_check(router, provider.name)
    return Routing(providers, provider_types, counter, router, checks)


async def start_runtime_providers(
    settings: Settings, store: Store, box: SecretBox, routing: Routing
) -> RuntimeProviders:
    """The providers administrators added, loaded from the store and kept in step with it."""
    runtime = RuntimeProviders(
        store.providers,
        box,
        routing.router,
        routing.counter,
        refresh_s=settings.provider_refresh_s,
        reserved_names=set(routing.provider_types),
    )
    await runtime.start()
    return runtime


def provider_admin(
    settings: Settings, store: Store, box: SecretBox, runtime: RuntimeProviders, routing: Routing
) -> ProviderAdmin:
    return ProviderAdmin(
        store.providers,
        box,
        runtime,
        settings.providers,
        routing.router,
        routing.counter,
        public_urls_only=settings.provider_urls_public_only,
    )


def router_config(settings: Settings) -> RouterConfig:
    """The router's options, from the settings."""
    return RouterConfig(
        catalog_file=settings.catalog_file,
        currency=settings.currency,
        usd_to_eur=settings.usd_to_eur_rate,
        electricity_mix_zone=settings.electricity_mix_zone,
        retry=RetryPolicy(
            max_attempts=settings.retry_max_attempts,
            initial_backoff_s=settings.retry_initial_backoff_s,
            max_backoff_s=settings.retry_max_backoff_s,
            max_retry_after_s=settings.retry_max_retry_after_s,
        ),
        breaker_failure_threshold=settings.breaker_failure_threshold,
        breaker_cooldown_s=settings.breaker_cooldown_s,
        default_deadline_s=settings.default_deadline_s,
        timeouts={
            "local": UpstreamTimeouts(
                first_token_s=settings.local_model_first_token_timeout_s,
                between_tokens_s=settings.local_model_between_tokens_timeout_s,
            ),
            **{
                spec.name: UpstreamTimeouts(
                    first_token_s=spec.first_token_timeout_s,
                    between_tokens_s=spec.between_tokens_timeout_s,
                )
                for spec in settings.providers
            },
        },
    )
