"""The domain side of the service: providers, router and services, wired from settings."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from routeur_grpc.domain.repositories import Store
from routeur_grpc.limits.counters import CounterStore
from routeur_grpc.limits.memory import InProcessCounters
from routeur_grpc.limits.policy import LimitDefaults
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
from routeur_grpc.services.completion import CompletionLimits, CompletionService
from routeur_grpc.services.conversations import ConversationService
from routeur_grpc.services.health import HealthCheck, HealthChecker
from routeur_grpc.services.models import ModelsService
from routeur_grpc.services.provider_admin import ProviderAdmin
from routeur_grpc.services.quota import CompletionQuota, QuotaConfig
from routeur_grpc.services.response_cache import ResponseCache
from routeur_grpc.services.runtime_providers import RuntimeProviders
from routeur_grpc.services.usage import UsageRecorder
from routeur_grpc.services.user_limits import UserLimitsService
from routeur_grpc.settings import Settings, SettingsError
from routeur_grpc.storage import open_store
from routeur_grpc.storage.secret_box import SecretBox, SecretBoxError

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
    counters: CounterStore
    provider_admin: ProviderAdmin
    runtime_providers: RuntimeProviders
    user_limits: UserLimitsService

    async def aclose(self) -> None:
        await self.runtime_providers.aclose()
        await self.router.aclose()
        await self.counters.aclose()
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
    try:
        box = SecretBox.open(
            settings.secrets_key.get_secret_value() if settings.secrets_key else None,
            settings.data_dir,
        )
    except SecretBoxError as error:
        await router.aclose()
        await store.close()
        raise SettingsError(f"invalid settings:\n  {error}") from None
    runtime = RuntimeProviders(
        store.providers, box, router, counter, refresh_s=settings.provider_refresh_s,
        reserved_names=set(provider_types),
    )
    await runtime.start()
    counters = quota_counters(settings, checks)
    user_limits = UserLimitsService(store.user_limits, store.users)
    conversations = ConversationService(store.conversations)
    usage = UsageRecorder(store.usage, settings.currency)
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
        quota=CompletionQuota(
            counters, quota_config(settings), router, counter,
            overrides=user_limits, spending=store.usage,
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
        health=HealthChecker(checks, more=_runtime_checks(router, set(provider_types))),
        counters=counters,
        provider_admin=ProviderAdmin(
            store.providers, box, runtime, settings.providers, router, counter,
            public_urls_only=settings.provider_urls_public_only,
        ),
        runtime_providers=runtime,
        user_limits=user_limits,
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


def quota_counters(settings: Settings, checks: dict[str, HealthCheck]) -> CounterStore:
    """Rate-limit counters: in Redis when several instances share them, else in process."""
    if not settings.redis_url:
        return InProcessCounters()
    from routeur_grpc.limits.redis_store import RedisCounters  # only needed with Redis

    counters = RedisCounters(settings.redis_url)
    checks["rate_limits"] = counters.ping
    return counters


def quota_config(settings: Settings) -> QuotaConfig:
    """How rate limits and budgets apply, from the settings."""
    return QuotaConfig(
        defaults=LimitDefaults(
            requests_per_minute=settings.rate_limit_rpm,
            tokens_per_minute=settings.rate_limit_tpm,
            budget=settings.budget_amount,
            budget_period=settings.budget_period,
            currency=settings.currency,
        ),
        reserve_tokens=settings.rate_limit_reserve_tokens,
        hold_ttl_s=settings.rate_limit_hold_ttl_s,
        fail_open=settings.rate_limit_fail_open,
        admins_exempt=settings.rate_limit_admins_exempt,
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


def _runtime_checks(
    router: ModelRouter, configured: set[str]
) -> Callable[[], dict[str, HealthCheck]]:
    """The circuit checks of the providers administrators added, as routed right now."""

    def checks() -> dict[str, HealthCheck]:
        return {
            f"provider:{p.name}": _circuit_check(router, p.name)
            for p in router.providers
            if p.name not in configured
        }

    return checks


def _store_check(store: Store) -> HealthCheck:
    async def check() -> None:
        await store.users.list(page_size=1)

    return check


async def _always_healthy() -> None:
    """An in-process component that started is up for as long as the process is."""
