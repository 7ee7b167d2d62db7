"""The domain side of the service: providers, router and services, wired from settings."""

from __future__ import annotations

import logging
from dataclasses import dataclass

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
from routeur_grpc.services.response_cache import ResponseCache
from routeur_grpc.routing.retry import RetryPolicy
from routeur_grpc.routing.router import ModelRouter, RouterConfig
from routeur_grpc.services.agents.catalog import AGENTS
from routeur_grpc.services.agents.registry import AgentEnvironment, AgentRegistry
from routeur_grpc.services.agents.runner import AgentRunner
from routeur_grpc.services.completion import CompletionLimits, CompletionService
from routeur_grpc.services.conversations import ConversationService
from routeur_grpc.services.documents import DocumentService
from routeur_grpc.services.health import HealthCheck, HealthChecker
from routeur_grpc.services.models import ModelsService
from routeur_grpc.services.usage import UsageRecorder
from routeur_grpc.settings import Settings
from routeur_grpc.storage import open_store

log = logging.getLogger(__name__)


@dataclass
class Application:
    """Everything the servicers call, and what must be closed at the end."""

    settings: Settings
    store: Store
    providers: dict[str, ChatProvider]
    router: ModelRouter
    completions: CompletionService
    models: ModelsService
    conversations: ConversationService
    usage: UsageRecorder
    health: HealthChecker
    agents: AgentRegistry
    documents: DocumentService

    async def aclose(self) -> None:
        await self.router.aclose()
        await self.usage.aclose()
        await self.store.close()


async def build_application(settings: Settings) -> Application:
    """Create and start every domain component. Raises if one cannot start."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = await open_store(settings)
    providers: list[ChatProvider] = []
    provider_types: dict[str, str] = {}
    checks: dict[str, HealthCheck] = {"store": _store_check(store)}
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
        checks["local_model"] = _always_healthy
    counter = TokenCounter()
    for spec in settings.providers:
        if spec.enabled:
            providers.append(build_provider(spec, counter))
            provider_types[spec.name] = spec.type
    router = ModelRouter(
        providers, provider_types, router_config(settings), token_counter=counter
    )
    await router.start()
    for provider in providers:
        if provider_types[provider.name] != "local":  # `local_model` reports that one
            checks[f"provider:{provider.name}"] = _circuit_check(router, provider.name)
    conversations = ConversationService(store.conversations)
    usage = UsageRecorder(store.usage, settings.currency)
    agents = AgentRegistry(AGENTS, AgentEnvironment())
    documents = DocumentService(store.documents)
    completions = CompletionService(
        router,
        CompletionLimits(max_message_chars=settings.max_message_chars),
        conversations,
        usage,
        cache=(
            ResponseCache(settings.response_cache_ttl_s, settings.response_cache_max_entries)
            if settings.response_cache_ttl_s > 0
            else None
        ),
        agents=AgentRunner(
            agents,
            router.stream,
            currency=settings.currency,
            documents=documents,
            provider_of=router.provider_of,
        ),
        default_model=settings.default_model
        or (settings.local_model_name if settings.local_model_enabled else ""),
    )
    return Application(
        settings=settings,
        store=store,
        providers={provider.name: provider for provider in providers},
        router=router,
        completions=completions,
        models=ModelsService(router),
        conversations=conversations,
        usage=usage,
        health=HealthChecker(checks),
        agents=agents,
        documents=documents,
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


def _circuit_check(router: ModelRouter, provider: str) -> HealthCheck:
    """A provider instance is healthy while no circuit of its deployments is open; the note
    gives its type and circuit state. Nothing is sent upstream to find out."""

    async def check() -> str:
        states = router.circuit_states().get(provider, {})
        kind = router.provider_type(provider)
        open_models = sorted(model for model, state in states.items() if state == "open")
        if open_models:
            raise RuntimeError(
                f"{kind} provider; circuit open for {', '.join(open_models[:5])} after "
                "repeated upstream failures"
            )
        probing = any(state == "half_open" for state in states.values())
        return f"{kind} provider; circuit {'half_open' if probing else 'closed'}"

    return check


def _store_check(store: Store) -> HealthCheck:
    async def check() -> None:
        await store.users.list(page_size=1)

    return check


async def _always_healthy() -> None:
    """An in-process component that started is up for as long as the process is."""
