"""The models of an Ollama server, managed through one of the administered providers:
list what is installed, pull a model with its progress streamed, delete one."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import TYPE_CHECKING

from routeur_grpc.domain.provider_admin import InstalledModel, PullStep
from routeur_grpc.errors import FailedPrecondition, InvalidArgument
from routeur_grpc.services.provider_admin import ProviderAdmin

if TYPE_CHECKING:
    from routeur_grpc.providers.ollama_chat import OllamaProvider


class OllamaAdmin:
    """Ollama model management; the provider is looked up by `ProviderAdmin`."""

    def __init__(self, providers: ProviderAdmin) -> None:
        self._providers = providers

    async def models(self, provider_id: str) -> list[InstalledModel]:
        async with aclosing(await self._ollama(provider_id)) as ollama:
            return await ollama.installed_models()

    async def pull(self, provider_id: str, model: str) -> AsyncIterator[PullStep]:
        """Progress steps; closing the iterator abandons the download."""
        model = _model_name(model)
        async with aclosing(await self._ollama(provider_id)) as ollama:
            async with aclosing(ollama.pull(model)) as steps:
                async for step in steps:
                    yield PullStep(step.status, step.digest, step.total, step.completed)

    async def delete(self, provider_id: str, model: str) -> None:
        model = _model_name(model)
        async with aclosing(await self._ollama(provider_id)) as ollama:
            await ollama.delete(model)

    async def _ollama(self, provider_id: str) -> OllamaProvider:
        # Imported when asked: a server without an Ollama provider never loads its SDK.
        from routeur_grpc.providers.ollama_chat import OllamaProvider

        if not provider_id.strip():
            raise InvalidArgument("`provider_id` is empty: name an Ollama provider.")
        _, kind, client = await self._providers.client_for(provider_id)
        if not isinstance(client, OllamaProvider):
            await client.aclose()
            raise FailedPrecondition(
                f"Provider {provider_id!r} is of type {kind}, not an Ollama server: model "
                "management is for `ollama_local` and `ollama_cloud` providers."
            )
        return client


def _model_name(model: str) -> str:
    model = model.strip()
    if not model:
        raise InvalidArgument("`model` is empty: name a model with its tag, e.g. llama3:8b.")
    return model
