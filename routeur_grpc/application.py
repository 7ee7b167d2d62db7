"""The domain side of the service: providers, router and services, wired from settings."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from routeur_grpc.domain.job_audio import JobAudioStore
from routeur_grpc.domain.repositories import Store
from routeur_grpc.limits.counters import CounterStore
from routeur_grpc.limits.memory import InProcessCounters
from routeur_grpc.limits.policy import LimitDefaults
from routeur_grpc.media.spool import MEGABYTE, AudioSpool
from routeur_grpc.observability.metrics import Metrics, MetricsOptions
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
from routeur_grpc.services.analysis import AnalysisService, AnalysisSettings
from routeur_grpc.services.authentication import Authenticator
from routeur_grpc.services.bootstrap import ensure_first_admin
from routeur_grpc.services.agents.catalog import AGENTS
from routeur_grpc.services.agents.registry import AgentEnvironment, AgentRegistry
from routeur_grpc.services.agents.runner import AgentRunner
from routeur_grpc.services.completion import CompletionLimits, CompletionService
from routeur_grpc.services.conversations import ConversationService
from routeur_grpc.services.documents import DocumentService
from routeur_grpc.services.health import HealthCheck, HealthChecker
from routeur_grpc.services.job_changes import JobChanges
from routeur_grpc.services.meeting_report import MeetingReporter
from routeur_grpc.services.models import ModelsService
from routeur_grpc.services.provider_admin import ProviderAdmin
from routeur_grpc.services.quota import CompletionQuota, QuotaConfig
from routeur_grpc.services.realtime import RealtimeService, RealtimeSettings
from routeur_grpc.services.realtime_signalling import SignallingRooms
from routeur_grpc.services.response_cache import ResponseCache
from routeur_grpc.services.runtime_providers import RuntimeProviders
from routeur_grpc.services.token_exchange import TokenExchange
from routeur_grpc.services.token_keys import TokenKeyError, load_token_keys
from routeur_grpc.services.tokens import TokenCodec
from routeur_grpc.services.transcription import TranscriptionLimits, TranscriptionService
from routeur_grpc.services.transcription_admission import TranscriptionAdmission
from routeur_grpc.services.transcription_jobs import TranscriptionJobService
from routeur_grpc.services.transcription_workers import JobWorkerPool
from routeur_grpc.services.usage import UsageRecorder
from routeur_grpc.services.user_limits import UserLimitsService
from routeur_grpc.services.users import UserAdministration
from routeur_grpc.settings import Settings
from routeur_grpc.settings import Settings, SettingsError
from routeur_grpc.storage import open_store
from routeur_grpc.storage.job_audio_files import FileJobAudioStore
from routeur_grpc.storage.secret_box import SecretBox, SecretBoxError
from routeur_grpc.transcription.engine import TranscriptionEngine
from routeur_grpc.transcription.registry import TranscriptionEngines, build_engines

log = logging.getLogger(__name__)

PRODUCTION = "production"


class AuthSetupError(Exception):
    """Authentication cannot be set up as configured; the message names the setting."""


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
    authenticator: Authenticator
    auth_enabled: bool
    token_exchange: TokenExchange
    user_administration: UserAdministration
    metrics: Metrics
    transcription: TranscriptionService
    transcription_jobs: TranscriptionJobService
    job_workers: JobWorkerPool
    job_audio: JobAudioStore
    analyses: AnalysisService
    realtime: RealtimeService
    signalling: SignallingRooms
    agents: AgentRegistry
    documents: DocumentService

    counters: CounterStore
    provider_admin: ProviderAdmin
    runtime_providers: RuntimeProviders
    user_limits: UserLimitsService


    async def aclose(self) -> None:
        await self.runtime_providers.aclose()
        await self.job_workers.stop()
        self.transcription.spool.remove_all()
        await self.transcription.engines.aclose()
        close_audio = getattr(self.job_audio, "close", None)
        if close_audio is not None:
            await close_audio()
        await self.router.aclose()
        await self.counters.aclose()
        await self.usage.aclose()
        await self.store.close()


async def build_application(
    settings: Settings, transcription_engines: Mapping[str, TranscriptionEngine] | None = None
) -> Application:
    """Create and start every domain component. Raises if one cannot start.

    `transcription_engines` replaces the engines the settings describe (tests use it).
    """
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    tokens = _token_codec(settings)
    store = await open_store(settings)
    try:
        await ensure_first_admin(
            store.users,
            store.api_keys,
            chosen_key=(
                settings.bootstrap_admin_key.get_secret_value()
                if settings.bootstrap_admin_key
                else None
            ),
            data_dir=settings.data_dir,
        )
    except BaseException:
        await store.close()
        raise
    authenticator = Authenticator(
        store.users, store.api_keys, tokens, cache_ttl_s=settings.auth_cache_ttl_s
    )
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
    metrics = Metrics(MetricsOptions(per_user_labels=settings.metrics_per_user_labels))
    metrics.watch_circuits(router.circuit_states)
    usage = UsageRecorder(
        store.usage,
        settings.currency,
        observer=lambda caller, provider, metadata: metrics.completion_accounted(
            provider, metadata, caller.owner_id
        ),
    )
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
        quota=CompletionQuota(
            counters, quota_config(settings), router, counter,
            overrides=user_limits, spending=store.usage,
            on_decision=metrics.rate_limit_decision,
        ),
        default_model=settings.default_model
        or (settings.local_model_name if settings.local_model_enabled else ""),
    )
    if transcription_engines is None:
        engines = build_engines(settings)
        await engines.start()  # loads the local model, once
    else:  # given by a test; an empty mapping means "no engine"
        engines = TranscriptionEngines(transcription_engines)
    spool = AudioSpool(settings.data_dir / "uploads", settings.max_upload_mb * MEGABYTE)
    spool.prepare()
    admission = TranscriptionAdmission(
        settings.transcription_max_running,
        settings.transcription_max_running_per_caller,
        settings.transcription_retry_after_s,
    )
    transcription = TranscriptionService(
        engines,
        spool,
        admission,
        usage,
        MeetingReporter(
            completions,
            settings.meeting_report_model or settings.local_model_name,
            settings.meeting_report_max_chars,
            settings.meeting_report_max_tokens,
        ),
        TranscriptionLimits(
            max_meeting_duration_s=settings.meeting_max_duration_s,
            usd_to_currency=1.0 if settings.currency == "USD" else settings.usd_to_eur_rate,
        ),
    )
    job_audio = _job_audio_store(settings, spool)
    changes = JobChanges()
    transcription_jobs = TranscriptionJobService(
        store.jobs,
        job_audio,
        transcription,
        changes,
        max_waiting_per_caller=settings.transcription_max_waiting_jobs_per_caller,
        poll_interval_s=settings.transcription_job_poll_s,
        retry_after_s=settings.transcription_retry_after_s,
        on_transition=metrics.job_transition,
    )
    job_workers = JobWorkerPool(
        store.jobs,
        job_audio,
        transcription,
        admission,
        changes,
        workers=settings.transcription_job_workers,
        lease_s=settings.transcription_job_lease_s,
        poll_interval_s=settings.transcription_job_poll_s,
        audio_retention_s=settings.transcription_audio_retention_s,
        on_transition=metrics.job_transition,
    )
    job_workers.start()
    default_model = settings.local_model_name if settings.local_model_enabled else ""
    analyses = AnalysisService(
        completions,
        store.analyses,
        AnalysisSettings(
            default_model=settings.analysis_model or default_model,
            max_tokens=settings.analysis_max_tokens,
            max_text_chars=settings.max_message_chars,
        ),
    )
    realtime = RealtimeService(
        completions,
        conversations,
        RealtimeSettings(
            default_model=settings.realtime_model or default_model,
            idle_timeout_s=settings.realtime_idle_timeout_s,
            max_sessions_per_caller=settings.realtime_max_sessions_per_caller,
        ),
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
        authenticator=authenticator,
        auth_enabled=settings.auth == "enabled",
        token_exchange=TokenExchange(store.users, authenticator, tokens),
        user_administration=UserAdministration(
            store.users, store.api_keys, store.usage, authenticator
        ),
        metrics=metrics,
        transcription=transcription,
        transcription_jobs=transcription_jobs,
        job_workers=job_workers,
        job_audio=job_audio,
        analyses=analyses,
        realtime=realtime,
        signalling=SignallingRooms(),
        agents=agents,
        documents=documents,
        counters=counters,
        provider_admin=ProviderAdmin(
            store.providers, box, runtime, settings.providers, router, counter,
            public_urls_only=settings.provider_urls_public_only,
        ),
        runtime_providers=runtime,
        user_limits=user_limits,
    )


def _token_codec(settings: Settings) -> TokenCodec:
    """Signs and checks access tokens; refuses unsafe authentication settings."""
    production = settings.environment == PRODUCTION
    if settings.auth == "disabled":
        if production:
            raise AuthSetupError(
                "ROUTEUR_AUTH=disabled is refused when ROUTEUR_ENVIRONMENT=production: "
                "every caller would be an administrator."
            )
        log.warning(
            "authentication is DISABLED (ROUTEUR_AUTH=disabled): every caller is an "
            "anonymous administrator; never expose this server"
        )
    try:
        keys = load_token_keys(
            algorithm=settings.jwt_algorithm,
            secret=settings.jwt_secret.get_secret_value() if settings.jwt_secret else None,
            private_key_file=settings.jwt_private_key_file,
            public_key_file=settings.jwt_public_key_file,
            data_dir=settings.data_dir,
            production=production,
        )
    except TokenKeyError as error:
        raise AuthSetupError(str(error)) from None
    return TokenCodec(
        keys,
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        default_ttl_s=settings.jwt_ttl_s,
        max_ttl_s=settings.jwt_max_ttl_s,
    )


def _job_audio_store(settings: Settings, spool: AudioSpool) -> JobAudioStore:
    """Job audio beside the store: data_dir files for SQLite, GridFS for MongoDB."""
    if settings.store == "mongodb":
        from routeur_grpc.storage.mongodb.job_audio import GridFsJobAudioStore

        return GridFsJobAudioStore(
            settings.mongodb_uri, settings.mongodb_database, spool.temporary_file
        )
    return FileJobAudioStore(settings.data_dir / "job-audio")


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
