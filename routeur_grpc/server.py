"""The gRPC server: every routeur.v1 service, health checking and reflection.

`build_server(settings)` wires everything and binds the port; `serve(settings)` runs it
until SIGTERM or SIGINT, then lets in-flight calls (streams included) finish within the
grace period.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SpanExporter
from routeur.v1 import (
    agent_service_pb2,
    agent_service_pb2_grpc,
    analysis_service_pb2,
    analysis_service_pb2_grpc,
    auth_service_pb2,
    auth_service_pb2_grpc,
    completion_service_pb2,
    completion_service_pb2_grpc,
    conversation_service_pb2,
    conversation_service_pb2_grpc,
    document_service_pb2,
    document_service_pb2_grpc,
    health_service_pb2,
    health_service_pb2_grpc,
    model_service_pb2,
    model_service_pb2_grpc,
    openai_compat_service_pb2,
    openai_compat_service_pb2_grpc,
    provider_service_pb2,
    provider_service_pb2_grpc,
    quota_service_pb2,
    quota_service_pb2_grpc,
    realtime_service_pb2,
    realtime_service_pb2_grpc,
    transcription_service_pb2,
    transcription_service_pb2_grpc,
    user_service_pb2,
    user_service_pb2_grpc,
)

from routeur_grpc.api.agents import AgentServicer
from routeur_grpc.api.analysis import AnalysisServicer
from routeur_grpc.api.auth import AuthServicer
from routeur_grpc.api.completion import CompletionServicer
from routeur_grpc.api.conversations import ConversationServicer
from routeur_grpc.api.documents import DocumentServicer
from routeur_grpc.api.grpc_health import GrpcHealthServicer
from routeur_grpc.api.health import HealthServicer
from routeur_grpc.api.models import ModelServicer
from routeur_grpc.api.openai_compat import OpenAICompatServicer
from routeur_grpc.api.providers import ProviderServicer
from routeur_grpc.api.quota import QuotaServicer
from routeur_grpc.api.realtime import RealtimeServicer
from routeur_grpc.api.realtime_websocket import RealtimeWebSocketServer
from routeur_grpc.api.transcription import TranscriptionServicer
from routeur_grpc.api.users import UserServicer
from routeur_grpc.application import Application, AuthSetupError, build_application
from routeur_grpc.garbage_collection import freeze_startup_objects
from routeur_grpc.gateway import GatewayError, envoy_process_for
from routeur_grpc.gateway.supervisor import GatewayState, GatewaySupervisor
from routeur_grpc.interceptors.admission import AdmissionInterceptor, grpc_metadata_limit_bytes
from routeur_grpc.interceptors.authentication import AuthenticationInterceptor
from routeur_grpc.interceptors.error_mapping import ErrorMappingInterceptor
from routeur_grpc.interceptors.quota_headers import QuotaHeadersInterceptor
from routeur_grpc.interceptors.request_context import RequestContextInterceptor
from routeur_grpc.interceptors.request_decoding import RequestDecodingInterceptor
from routeur_grpc.observability.metrics_interceptor import MetricsInterceptor
from routeur_grpc.observability.metrics_server import MetricsServer, start_metrics_server
from routeur_grpc.observability.tracing import (
    build_tracer_provider,
    server_interceptors,
    shutdown_tracing,
)
from routeur_grpc.services.ollama_admin import OllamaAdmin
from routeur_grpc.settings import Settings, SettingsError
from routeur_grpc.transcription.engine import TranscriptionEngine

log = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 64 * 1024 * 1024  # audio chunks and long histories

# grpc.health.v1 name of the REST gateway: NOT_SERVING while Envoy is down. The whole
# server's status ("") is left alone: gRPC still serves, and Envoy health-checks "".
GATEWAY_HEALTH_SERVICE = "routeur.gateway"
#: How often a worker of several publishes its circuit states for the metrics.
CIRCUIT_PUBLISH_INTERVAL_S = 1.0


class StartupError(Exception):
    """The server cannot start; the message says why and what to change."""


@dataclass(frozen=True)
class _Service:
    """One routeur.v1 service: its stubs module, descriptor, and servicer factory."""

    stubs: ModuleType
    messages: ModuleType
    name: str
    servicer: Callable[[Application], Any]

    @property
    def full_name(self) -> str:
        return self.messages.DESCRIPTOR.services_by_name[self.name].full_name


SERVICES: tuple[_Service, ...] = (
    _Service(completion_service_pb2_grpc, completion_service_pb2, "CompletionService",
             lambda app: CompletionServicer(app.completions)),
    _Service(model_service_pb2_grpc, model_service_pb2, "ModelService",
             lambda app: ModelServicer(app.models)),
    _Service(health_service_pb2_grpc, health_service_pb2, "HealthService",
             lambda app: HealthServicer(app.health, app.settings.environment)),
    _Service(openai_compat_service_pb2_grpc, openai_compat_service_pb2, "OpenAICompatService",
             lambda app: OpenAICompatServicer(app.completions, app.models, app.transcription)),
    _Service(auth_service_pb2_grpc, auth_service_pb2, "AuthService",
             lambda app: AuthServicer(app.token_exchange)),
    _Service(transcription_service_pb2_grpc, transcription_service_pb2, "TranscriptionService",
             lambda app: TranscriptionServicer(app.transcription, app.transcription_jobs)),
    _Service(agent_service_pb2_grpc, agent_service_pb2, "AgentService",
             lambda app: AgentServicer(app.agents)),
    _Service(document_service_pb2_grpc, document_service_pb2, "DocumentService",
             lambda app: DocumentServicer(app.documents)),
    _Service(conversation_service_pb2_grpc, conversation_service_pb2, "ConversationService",
             lambda app: ConversationServicer(app.conversations)),
    _Service(analysis_service_pb2_grpc, analysis_service_pb2, "AnalysisService",
             lambda app: AnalysisServicer(app.analyses)),
    _Service(provider_service_pb2_grpc, provider_service_pb2, "ProviderService",
             lambda app: ProviderServicer(app.provider_admin, OllamaAdmin(app.provider_admin))),
    _Service(quota_service_pb2_grpc, quota_service_pb2, "QuotaService",
             lambda app: QuotaServicer(
                 app.user_limits, app.settings.currency, app.settings.budget_period
             )),
    _Service(user_service_pb2_grpc, user_service_pb2, "UserService",
             lambda app: UserServicer(app.user_administration, app.settings.currency)),
    _Service(realtime_service_pb2_grpc, realtime_service_pb2, "RealtimeService",
             lambda app: RealtimeServicer(app.realtime)),
)


class RouteurServer:
    """A started-or-not gRPC server and the application behind it."""

    def __init__(
        self,
        server: grpc.aio.Server,
        app: Application,
        health_servicer: health.aio.HealthServicer,
        tracer_provider: TracerProvider | None = None,
    ) -> None:
        self.grpc_server = server
        self.app = app
        self._health = health_servicer
        self.tracer_provider = tracer_provider
        self.metrics_server: MetricsServer | None = None
        self._circuit_publisher: asyncio.Task[None] | None = None
        self.websocket = RealtimeWebSocketServer(
            app.realtime, app.signalling, app.authenticator if app.auth_enabled else None
        )

    @property
    def websocket_port(self) -> int | None:
        """The port of the realtime WebSocket endpoint, once started."""
        return self.websocket.port

    async def start(self, *, reuse_port: bool = False) -> None:
        """Serve. `reuse_port`: the realtime WebSocket port is shared with the process that
        reserved it (a worker of `routeur_grpc.workers`); gRPC always allows it."""
        await self.grpc_server.start()
        settings = self.app.settings
        try:
            await self.websocket.start(settings.realtime_websocket_address, reuse_port=reuse_port)
        except OSError as error:
            await self.grpc_server.stop(0)
            await self.app.aclose()
            raise StartupError(
                f"Cannot listen on {settings.realtime_websocket_address} "
                f"(ROUTEUR_REALTIME_WEBSOCKET_ADDRESS): {error.strerror or error}. "
                "Is another process using that port?"
            ) from None
        if settings.metrics_port is not None:
            self.metrics_server = start_metrics_server(
                self.app.metrics, settings.metrics_host, settings.metrics_port
            )
        self._circuit_publisher = asyncio.create_task(
            self.app.metrics.publish_circuits_every(CIRCUIT_PUBLISH_INTERVAL_S)
        )

    async def stop(self, grace: float | None) -> None:
        """Refuse new calls, give in-flight ones `grace` seconds, then release everything."""
        await self._health.enter_graceful_shutdown()
        await self.websocket.stop()
        await self.grpc_server.stop(grace)
        if self._circuit_publisher is not None:
            self._circuit_publisher.cancel()
        await self.app.aclose()
        if self.metrics_server is not None:
            self.metrics_server.stop()
        if self.tracer_provider is not None:
            await shutdown_tracing(self.tracer_provider)

    async def wait_for_termination(self) -> None:
        await self.grpc_server.wait_for_termination()

    async def supervise_gateway(self, settings: Settings, grpc_port: int) -> GatewaySupervisor:
        """Start Envoy in front of this server, restarted whenever it exits; its state is
        shown by gRPC health (`GATEWAY_HEALTH_SERVICE`) and the HealthService (`gateway`)."""
        supervisor = GatewaySupervisor(
            envoy_process_for(
                settings, grpc_port=grpc_port, websocket_port=self.websocket_port
            ),
            on_change=self._gateway_changed,
            start_timeout_s=settings.gateway_start_timeout_s,
            initial_backoff_s=settings.gateway_restart_backoff_s,
        )
        self.app.health.add_check("gateway", supervisor.check)
        await supervisor.start()
        return supervisor

    async def _gateway_changed(self, state: GatewayState) -> None:
        serving = health_pb2.HealthCheckResponse.SERVING
        await self._health.set(
            GATEWAY_HEALTH_SERVICE,
            serving if state.up else health_pb2.HealthCheckResponse.NOT_SERVING,
        )


async def build_server(
    settings: Settings,
    transcription_engines: Mapping[str, TranscriptionEngine] | None = None,
    *,
    span_exporter: SpanExporter | None = None,
    more_addresses: Sequence[str] = (),
) -> tuple[RouteurServer, int]:
    """Wire every service and bind the listen address. Returns the server and its port.

    `transcription_engines` replaces the engines the settings describe, and `span_exporter`
    receives the traces instead of the OTLP endpoint (tests use both). `more_addresses` are
    bound as well (a worker's own port, which the gateway balances over).
    """
    # Before the application: the providers' HTTP clients are traced as they are built.
    tracer_provider = build_tracer_provider(
        settings.otel_service_name, settings.otlp_endpoint, span_exporter
    )
    try:
        app = await build_application(
            settings,
            transcription_engines,
            tracer_provider.get_tracer("routeur_grpc.routing") if tracer_provider else None,
        )
    except BaseException as error:
        if tracer_provider is not None:
            await shutdown_tracing(tracer_provider)
        if isinstance(error, (AuthSetupError, SettingsError)):  # only checkable while wiring
            raise StartupError(str(error)) from None
        raise
    # Outermost first. Tracing opens the call's span; metrics sit outside the error mapping
    # to see final status codes. The remaining quota goes on every answer, refusals
    # included. Authentication sits inside the error mapping, so its
    # refusals get the same status details as every other error; the access rule of each
    # method is in `method_access.METHOD_ACCESS`.
    server = grpc.aio.server(
        interceptors=[
            *server_interceptors(tracer_provider),
            RequestContextInterceptor(),
            MetricsInterceptor(app.metrics),
            ErrorMappingInterceptor(),
            QuotaHeadersInterceptor(),
            AdmissionInterceptor(
                max_concurrent_calls=settings.max_concurrent_calls,
                max_request_headers_kb=settings.max_request_headers_kb,
            ),
            AuthenticationInterceptor(app.authenticator if app.auth_enabled else None),
            RequestDecodingInterceptor(),
        ],
        options=[
            ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
            ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
            # gRPC's own metadata limit lies above ours: AdmissionInterceptor answers first.
            ("grpc.max_metadata_size", grpc_metadata_limit_bytes(settings.max_request_headers_kb)),
            ("grpc.absolute_max_metadata_size",
             grpc_metadata_limit_bytes(settings.max_request_headers_kb)),
            # Calls gRPC core has received wait in its queue until grpc.aio picks them up, one
            # per method at a time on the event loop (measured under 2,000 streams on 2 cores:
            # 2-100 a second), unseen by AdmissionInterceptor. With core's defaults, beyond 1,000
            # waiting it refuses calls at random, and drops those waiting 30 s: the client
            # gets CANCELLED with no details. Sized so that every call reaches admission
            # (UNAVAILABLE with RetryInfo beyond max_concurrent_calls) or ends on its deadline.
            ("grpc.server.max_pending_requests", 8 * settings.max_concurrent_calls),
            ("grpc.server.max_pending_requests_hard_limit", 16 * settings.max_concurrent_calls),
            ("grpc.server_max_unrequested_time_in_server",
             max(30, int(settings.default_deadline_s) + 1)),  # never below core's default
        ],
    )
    health_servicer = GrpcHealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    for service in SERVICES:
        register = getattr(service.stubs, f"add_{service.name}Servicer_to_server")
        register(service.servicer(app), server)
        await health_servicer.set(service.full_name, health_pb2.HealthCheckResponse.SERVING)
    await health_servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    reflection.enable_server_reflection(
        [service.full_name for service in SERVICES]
        + [health_pb2.DESCRIPTOR.services_by_name["Health"].full_name, reflection.SERVICE_NAME],
        server,
    )
    try:
        port = server.add_insecure_port(settings.grpc_address)
        for address in more_addresses:
            server.add_insecure_port(address)
    except RuntimeError as error:
        await app.aclose()
        raise StartupError(
            f"Cannot listen on {settings.grpc_address} (ROUTEUR_GRPC_ADDRESS): {error}. "
            "Is another process using that port?"
        ) from None
    return RouteurServer(server, app, health_servicer, tracer_provider), port


async def serve(
    settings: Settings, transcription_engines: Mapping[str, TranscriptionEngine] | None = None
) -> None:
    """Run until SIGTERM/SIGINT, then drain in-flight calls for `shutdown_grace_s`.

    With `gateway_enabled`, Envoy (the REST face) starts once the gRPC server listens and
    stops after it has drained.
    """
    routeur, port = await build_server(settings, transcription_engines)
    await routeur.start()
    freeze_startup_objects()
    host = settings.grpc_address.rpartition(":")[0]
    log.info("gRPC server listening", extra={"address": f"{host}:{port}"})
    gateway = None
    if settings.gateway_enabled:
        try:
            gateway = await routeur.supervise_gateway(settings, port)
        except GatewayError as error:
            await routeur.stop(0)
            raise StartupError(
                f"The REST gateway did not start: {error} "
                "(ROUTEUR_GATEWAY_ENABLED=false runs gRPC alone)."
            ) from None
        log.info("REST gateway listening", extra={"url": gateway.rest_url})
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping.set)
    await stopping.wait()
    log.info("shutting down", extra={"grace_s": settings.shutdown_grace_s})
    await routeur.stop(settings.shutdown_grace_s)
    if gateway is not None:
        await gateway.stop()
    log.info("stopped")
