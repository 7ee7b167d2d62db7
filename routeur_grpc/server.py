"""The gRPC server: every routeur.v1 service, health checking and reflection.

`build_server(settings)` wires everything and binds the port; `serve(settings)` runs it
until SIGTERM or SIGINT, then lets in-flight calls (streams included) finish within the
grace period.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
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

from routeur_grpc.api.completion import CompletionServicer
from routeur_grpc.api.conversations import ConversationServicer
from routeur_grpc.api.grpc_health import GrpcHealthServicer
from routeur_grpc.api.health import HealthServicer
from routeur_grpc.api.models import ModelServicer
from routeur_grpc.api.openai_compat import OpenAICompatServicer
from routeur_grpc.api.providers import ProviderServicer
from routeur_grpc.api.quota import QuotaServicer
from routeur_grpc.api.unimplemented import unimplemented_servicer
from routeur_grpc.application import Application, build_application
from routeur_grpc.gateway import GatewayError, start_gateway
from routeur_grpc.interceptors.error_mapping import ErrorMappingInterceptor
from routeur_grpc.interceptors.quota_headers import QuotaHeadersInterceptor
from routeur_grpc.interceptors.request_context import RequestContextInterceptor
from routeur_grpc.services.ollama_admin import OllamaAdmin
from routeur_grpc.settings import Settings, SettingsError

log = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 64 * 1024 * 1024  # audio chunks and long histories


class StartupError(Exception):
    """The server cannot start; the message says why and what to change."""


@dataclass(frozen=True)
class _Service:
    """One routeur.v1 service: its stubs module, descriptor, and servicer factory."""

    stubs: ModuleType
    messages: ModuleType
    name: str
    servicer: Callable[[Application], Any] | None
    missing_feature: str = ""

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
             lambda app: OpenAICompatServicer(app.completions, app.models)),
    _Service(auth_service_pb2_grpc, auth_service_pb2, "AuthService", None,
             "authentication (API keys exchanged for JWT bearer tokens)"),
    _Service(transcription_service_pb2_grpc, transcription_service_pb2,
             "TranscriptionService", None, "speech-to-text transcription"),
    _Service(agent_service_pb2_grpc, agent_service_pb2, "AgentService", None,
             "the agent registry"),
    _Service(conversation_service_pb2_grpc, conversation_service_pb2, "ConversationService",
             lambda app: ConversationServicer(app.conversations)),
    _Service(analysis_service_pb2_grpc, analysis_service_pb2, "AnalysisService", None,
             "text analysis"),
    _Service(provider_service_pb2_grpc, provider_service_pb2, "ProviderService",
             lambda app: ProviderServicer(app.provider_admin, OllamaAdmin(app.provider_admin))),
    _Service(quota_service_pb2_grpc, quota_service_pb2, "QuotaService",
             lambda app: QuotaServicer(
                 app.user_limits, app.settings.currency, app.settings.budget_period
             )),
    _Service(user_service_pb2_grpc, user_service_pb2, "UserService", None,
             "user administration"),
    _Service(realtime_service_pb2_grpc, realtime_service_pb2, "RealtimeService", None,
             "realtime sessions"),
)


class RouteurServer:
    """A started-or-not gRPC server and the application behind it."""

    def __init__(
        self, server: grpc.aio.Server, app: Application, health_servicer: health.aio.HealthServicer
    ) -> None:
        self.grpc_server = server
        self.app = app
        self._health = health_servicer

    async def start(self) -> None:
        await self.grpc_server.start()

    async def stop(self, grace: float | None) -> None:
        """Refuse new calls, give in-flight ones `grace` seconds, then release everything."""
        await self._health.enter_graceful_shutdown()
        await self.grpc_server.stop(grace)
        await self.app.aclose()

    async def wait_for_termination(self) -> None:
        await self.grpc_server.wait_for_termination()


async def build_server(settings: Settings) -> tuple[RouteurServer, int]:
    """Wire every service and bind the listen address. Returns the server and its port."""
    try:
        app = await build_application(settings)
    except SettingsError as error:  # a setting only checkable while wiring (a key's format)
        raise StartupError(str(error)) from None
    server = grpc.aio.server(
        interceptors=[
            RequestContextInterceptor(), ErrorMappingInterceptor(), QuotaHeadersInterceptor()
        ],
        options=[
            ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
            ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
        ],
    )
    health_servicer = GrpcHealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    for service in SERVICES:
        register = getattr(service.stubs, f"add_{service.name}Servicer_to_server")
        if service.servicer is not None:
            register(service.servicer(app), server)
            await health_servicer.set(service.full_name, health_pb2.HealthCheckResponse.SERVING)
        else:
            base = getattr(service.stubs, f"{service.name}Servicer")
            descriptor = service.messages.DESCRIPTOR.services_by_name[service.name]
            register(unimplemented_servicer(base, descriptor, service.missing_feature), server)
            await health_servicer.set(
                service.full_name, health_pb2.HealthCheckResponse.NOT_SERVING
            )
    await health_servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    reflection.enable_server_reflection(
        [service.full_name for service in SERVICES]
        + [health_pb2.DESCRIPTOR.services_by_name["Health"].full_name, reflection.SERVICE_NAME],
        server,
    )
    try:
        port = server.add_insecure_port(settings.grpc_address)
    except RuntimeError as error:
        await app.aclose()
        raise StartupError(
            f"Cannot listen on {settings.grpc_address} (ROUTEUR_GRPC_ADDRESS): {error}. "
            "Is another process using that port?"
        ) from None
    return RouteurServer(server, app, health_servicer), port


async def serve(settings: Settings) -> None:
    """Run until SIGTERM/SIGINT, then drain in-flight calls for `shutdown_grace_s`.

    With `gateway_enabled`, Envoy (the REST face) starts once the gRPC server listens and
    stops after it has drained.
    """
    routeur, port = await build_server(settings)
    await routeur.start()
    host = settings.grpc_address.rpartition(":")[0]
    log.info("gRPC server listening", extra={"address": f"{host}:{port}"})
    gateway = None
    if settings.gateway_enabled:
        try:
            gateway = await start_gateway(settings, grpc_port=port)
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
