"""ProviderService servicer: protobuf in, one `ProviderAdmin` (or `OllamaAdmin`) call,
protobuf out."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import aclosing

import grpc
from routeur.v1 import provider_service_pb2 as pb
from routeur.v1 import provider_service_pb2_grpc as pb_grpc

from routeur_grpc.api import providers_convert as convert
from routeur_grpc.api.list_paging import page_of
from routeur_grpc.errors import InvalidArgument
from routeur_grpc.services.ollama_admin import OllamaAdmin
from routeur_grpc.services.provider_admin import ProviderAdmin


class ProviderServicer(pb_grpc.ProviderServiceServicer):
    def __init__(self, admin: ProviderAdmin, ollama: OllamaAdmin) -> None:
        self._admin = admin
        self._ollama = ollama

    async def ListProviders(
        self, request: pb.ListProvidersRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListProvidersResponse:
        views, next_token = page_of(await self._admin.list(), request.page_size, request.page_token)
        return pb.ListProvidersResponse(
            providers=[convert.provider(view) for view in views], next_page_token=next_token
        )

    async def CreateProvider(
        self, request: pb.CreateProviderRequest, context: grpc.aio.ServicerContext
    ) -> pb.CreateProviderResponse:
        if not request.HasField("provider"):
            raise InvalidArgument("`provider` is missing: give the provider to add.")
        view = await self._admin.create(convert.provider_input(request.provider))
        return pb.CreateProviderResponse(provider=convert.provider(view))

    async def GetProvider(
        self, request: pb.GetProviderRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetProviderResponse:
        return pb.GetProviderResponse(
            provider=convert.provider(await self._admin.get(request.provider_id))
        )

    async def UpdateProvider(
        self, request: pb.UpdateProviderRequest, context: grpc.aio.ServicerContext
    ) -> pb.UpdateProviderResponse:
        change = convert.provider_input(request.provider, request.update_mask.paths)
        view = await self._admin.update(request.provider.provider_id, change)
        return pb.UpdateProviderResponse(provider=convert.provider(view))

    async def DeleteProvider(
        self, request: pb.DeleteProviderRequest, context: grpc.aio.ServicerContext
    ) -> pb.DeleteProviderResponse:
        await self._admin.delete(request.provider_id)
        return pb.DeleteProviderResponse()

    async def ToggleProvider(
        self, request: pb.ToggleProviderRequest, context: grpc.aio.ServicerContext
    ) -> pb.ToggleProviderResponse:
        enabled = request.enabled if request.HasField("enabled") else None
        view = await self._admin.toggle(request.provider_id, enabled)
        return pb.ToggleProviderResponse(provider=convert.provider(view))

    async def TestProvider(
        self, request: pb.TestProviderRequest, context: grpc.aio.ServicerContext
    ) -> pb.TestProviderResponse:
        return convert.test_result(await self._admin.test(request.provider_id, request.model))

    async def InitializeDefaultProviders(
        self, request: pb.InitializeDefaultProvidersRequest, context: grpc.aio.ServicerContext
    ) -> pb.InitializeDefaultProvidersResponse:
        created, skipped = await self._admin.initialize_defaults()
        return pb.InitializeDefaultProvidersResponse(
            created=[convert.provider(view) for view in created], skipped=skipped
        )

    async def SyncProviderModels(
        self, request: pb.SyncProviderModelsRequest, context: grpc.aio.ServicerContext
    ) -> pb.SyncProviderModelsResponse:
        results = await self._admin.sync(list(request.provider_ids))
        return pb.SyncProviderModelsResponse(results=[convert.sync_result(r) for r in results])

    async def ListOllamaModels(
        self, request: pb.ListOllamaModelsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListOllamaModelsResponse:
        models = await self._ollama.models(request.provider_id)
        return pb.ListOllamaModelsResponse(models=[convert.ollama_model(m) for m in models])

    async def PullOllamaModel(
        self, request: pb.PullOllamaModelRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[pb.PullOllamaModelResponse]:
        steps = self._ollama.pull(request.provider_id, request.model)
        async with aclosing(steps):
            async for step in steps:
                yield convert.pull_step(step)

    async def DeleteOllamaModel(
        self, request: pb.DeleteOllamaModelRequest, context: grpc.aio.ServicerContext
    ) -> pb.DeleteOllamaModelResponse:
        await self._ollama.delete(request.provider_id, request.model)
        return pb.DeleteOllamaModelResponse()
