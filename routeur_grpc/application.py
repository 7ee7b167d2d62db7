"""The domain side of the service: providers, router and services, wired from settings."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from routeur_grpc.providers.base import ChatProvider
from routeur_grpc.providers.local_llama import (
    LocalLlamaProvider,
    LocalModelConfig,
    bundled_model_path,
)
from routeur_grpc.routing.router import ModelRouter
from routeur_grpc.services.completion import CompletionLimits, CompletionService
from routeur_grpc.services.health import HealthCheck, HealthChecker
from routeur_grpc.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class Application:
    """Everything the servicers call, and what must be closed at the end."""

    settings: Settings
    providers: dict[str, ChatProvider]
    router: ModelRouter
    completions: CompletionService
    health: HealthChecker

    async def aclose(self) -> None:
        await self.router.aclose()


async def build_application(settings: Settings) -> Application:
    """Create and start every domain component. Raises if one cannot start."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
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
        checks["local_model"] = _always_healthy
    router = ModelRouter(providers, provider_types)
    await router.start()
    completions = CompletionService(
        router, CompletionLimits(max_message_chars=settings.max_message_chars)
    )
    return Application(
        settings=settings,
        providers={provider.name: provider for provider in providers},
        router=router,
        completions=completions,
        health=HealthChecker(checks),
    )


async def _always_healthy() -> None:
    """An in-process component that started is up for as long as the process is."""
