"""The application: every part the servicers call, built from the settings.

`build_application` only composes: each area (storage, authentication, providers and
routing, limits, observability, agents, completions, transcription) is built by its
module in `routeur_grpc.assembly`, in the order their start-up needs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from opentelemetry.trace import Tracer

from routeur_grpc.assembly import agents as agent_parts
from routeur_grpc.assembly import auth, observability
from routeur_grpc.assembly.auth import AuthSetupError
from routeur_grpc.assembly.completions import (
    analysis_service,
    completion_service,
    realtime_service,
)
from routeur_grpc.assembly.health import runtime_checks, store_check
from routeur_grpc.assembly.limits import quota_counters
from routeur_grpc.assembly.routing import provider_admin, start_routing, start_runtime_providers
from routeur_grpc.assembly.storage import secret_box
from routeur_grpc.assembly.transcription import start_transcription
from routeur_grpc.domain.job_audio import JobAudioStore
from routeur_grpc.domain.repositories import Store
from routeur_grpc.limits.counters import CounterStore
from routeur_grpc.observability.metrics import Metrics
from routeur_grpc.providers.base import ChatProvider
from routeur_grpc.routing.router import ModelRouter
from routeur_grpc.services.agents.registry import AgentRegistry
from routeur_grpc.services.analysis import AnalysisService
from routeur_grpc.services.authentication import Authenticator
from routeur_grpc.services.completion import CompletionService
from routeur_grpc.services.conversations import ConversationService
from routeur_grpc.services.documents import DocumentService
from routeur_grpc.services.health import HealthChecker
from routeur_grpc.services.models import ModelsService
from routeur_grpc.services.provider_admin import ProviderAdmin
from routeur_grpc.services.realtime import RealtimeService
from routeur_grpc.services.realtime_signalling import SignallingRooms
from routeur_grpc.services.runtime_providers import RuntimeProviders
from routeur_grpc.services.token_exchange import TokenExchange
from routeur_grpc.services.tokens import TokenCodec
from routeur_grpc.services.transcription import TranscriptionService
from routeur_grpc.services.transcription_jobs import TranscriptionJobService
from routeur_grpc.services.transcription_workers import JobWorkerPool
from routeur_grpc.services.usage import UsageRecorder
from routeur_grpc.services.user_limits import UserLimitsService
from routeur_grpc.services.users import UserAdministration
from routeur_grpc.settings import Settings
from routeur_grpc.storage import open_store
from routeur_grpc.transcription.engine import TranscriptionEngine

__all__ = ["Application", "AuthSetupError", "build_application"]


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


async def prepare_data(settings: Settings) -> None:
    """What must happen once before several processes share the data: the store's
    migrations, the generated secrets and the first administrator. `build_application` does
    the same (each step is idempotent); the main process of several workers calls this
    first so that they do not race for it."""
    _, store = await _open_data(settings)
    await store.close()
    secret_box(settings)


async def _open_data(settings: Settings) -> tuple[TokenCodec, Store]:
    """The first steps of every start: the data directory, the token codec (which may
    generate its secret there), the migrated store and its first administrator."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    tokens = auth.token_codec(settings)
    store = await open_store(settings)
    await auth.first_admin(settings, store)
    return tokens, store


async def build_application(
    settings: Settings,
    transcription_engines: Mapping[str, TranscriptionEngine] | None = None,
    tracer: Tracer | None = None,
) -> Application:
    """Create and start every part. Raises if one cannot start.

    `transcription_engines` replaces the engines the settings describe (tests use it);
    `tracer`, when the server traces, makes a span of each upstream attempt.
    """
    tokens, store = await _open_data(settings)
    authenticator = auth.authenticator(settings, store, tokens)
    routing = await start_routing(settings, tracer)
    router = routing.router
    checks = {"store": store_check(store), **routing.checks}
    try:
        box = secret_box(settings)
    except BaseException:
        await router.aclose()
        await store.close()
        raise
    runtime = await start_runtime_providers(settings, store, box, routing)
    counters = quota_counters(settings, checks)
    user_limits = UserLimitsService(store.user_limits, store.users)
    conversations = ConversationService(store.conversations)
    metrics = observability.metrics(settings, router)
    usage = observability.usage_recorder(settings, store, metrics)
    agents = agent_parts.agent_registry()
    documents = DocumentService(store.documents)
    completions = completion_service(
        settings,
        store,
        router,
        routing.counter,
        conversations=conversations,
        usage=usage,
        agents=agent_parts.agent_runner(settings, agents, router, documents),
        counters=counters,
        user_limits=user_limits,
        metrics=metrics,
    )
    transcription = await start_transcription(
        settings, store, usage, completions, metrics, transcription_engines
    )
    return Application(
        settings=settings,
        store=store,
        providers={provider.name: provider for provider in routing.providers},
        router=router,
        completions=completions,
        models=ModelsService(router),
        conversations=conversations,
        usage=usage,
        health=HealthChecker(checks, more=runtime_checks(router, set(routing.provider_types))),
        authenticator=authenticator,
        auth_enabled=settings.auth == "enabled",
        token_exchange=TokenExchange(store.users, authenticator, tokens),
        user_administration=UserAdministration(
            store.users, store.api_keys, store.usage, authenticator
        ),
        metrics=metrics,
        transcription=transcription.service,
        transcription_jobs=transcription.jobs,
        job_workers=transcription.workers,
        job_audio=transcription.job_audio,
        analyses=analysis_service(settings, store, completions),
        realtime=realtime_service(settings, completions, conversations),
        signalling=SignallingRooms(),
        agents=agents,
        documents=documents,
        counters=counters,
        provider_admin=provider_admin(settings, store, box, runtime, routing),
        runtime_providers=runtime,
        user_limits=user_limits,
    )
