"""The services that answer with a model: completions (with their cache, quota and
agents), text analyses and realtime sessions built on them."""

from __future__ import annotations

from routeur_grpc.assembly.limits import quota_config
from routeur_grpc.domain.repositories import Store
from routeur_grpc.limits.counters import CounterStore
from routeur_grpc.observability.metrics import Metrics
from routeur_grpc.providers.token_count import TokenCounter
from routeur_grpc.routing.router import ModelRouter
from routeur_grpc.services.agents.runner import AgentRunner
from routeur_grpc.services.analysis import AnalysisService, AnalysisSettings
from routeur_grpc.services.completion import CompletionLimits, CompletionService
from routeur_grpc.services.conversations import ConversationService
from routeur_grpc.services.quota import CompletionQuota
from routeur_grpc.services.realtime import RealtimeService, RealtimeSettings
from routeur_grpc.services.response_cache import ResponseCache
from routeur_grpc.services.usage import UsageRecorder
from routeur_grpc.services.user_limits import UserLimitsService
from routeur_grpc.settings import Settings


def completion_service(
    settings: Settings,
    store: Store,
    router: ModelRouter,
    counter: TokenCounter,
    *,
    conversations: ConversationService,
    usage: UsageRecorder,
    agents: AgentRunner,
    counters: CounterStore,
    user_limits: UserLimitsService,
    metrics: Metrics,
) -> CompletionService:
    """Completions over the router: limits, history, usage, cache, agents and quota."""
    return CompletionService(
        router,
        CompletionLimits(max_message_chars=settings.max_message_chars),
        conversations,
        usage,
        cache=(
            ResponseCache(settings.response_cache_ttl_s, settings.response_cache_max_entries)
            if settings.response_cache_ttl_s > 0
            else None
        ),
        agents=agents,
        quota=CompletionQuota(
            counters,
            quota_config(settings),
            router,
            counter,
            overrides=user_limits,
            spending=store.usage,
            on_decision=metrics.rate_limit_decision,
        ),
        default_model=settings.default_model
        or (settings.local_model_name if settings.local_model_enabled else ""),
    )


def _embedded_model(settings: Settings) -> str:
    """The embedded model's name when it is enabled: the default of the services below."""
    return settings.local_model_name if settings.local_model_enabled else ""


def analysis_service(
    settings: Settings, store: Store, completions: CompletionService
) -> AnalysisService:
    return AnalysisService(
        completions,
        store.analyses,
        AnalysisSettings(
            default_model=settings.analysis_model or _embedded_model(settings),
            max_tokens=settings.analysis_max_tokens,
            max_text_chars=settings.max_message_chars,
        ),
    )


def realtime_service(
    settings: Settings, completions: CompletionService, conversations: ConversationService
) -> RealtimeService:
    return RealtimeService(
        completions,
        conversations,
        RealtimeSettings(
            default_model=settings.realtime_model or _embedded_model(settings),
            idle_timeout_s=settings.realtime_idle_timeout_s,
            max_sessions_per_caller=settings.realtime_max_sessions_per_caller,
        ),
    )
