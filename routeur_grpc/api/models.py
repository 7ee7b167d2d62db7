"""ModelService servicer: the catalog, as the router knows it."""

from __future__ import annotations

import grpc
from routeur.v1 import model_service_pb2 as pb
from routeur.v1 import model_service_pb2_grpc as pb_grpc

from routeur_grpc.api.list_paging import page_of
from routeur_grpc.domain.models import ModelInfo
from routeur_grpc.services.models import ModelsService


class ModelServicer(pb_grpc.ModelServiceServicer):
    def __init__(self, models: ModelsService) -> None:
        self._models = models

    async def ListModels(
        self, request: pb.ListModelsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListModelsResponse:
        models = await self._models.list(
            provider=request.provider, available_only=request.available_only
        )
        page, next_token = page_of(models, request.page_size, request.page_token)
        return pb.ListModelsResponse(
            models=[model_message(model) for model in page],
            total=len(models),
            next_page_token=next_token,
        )

    async def GetModel(
        self, request: pb.GetModelRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetModelResponse:
        return pb.GetModelResponse(model=model_message(await self._models.get(request.name)))


def model_message(model: ModelInfo) -> pb.Model:
    message = pb.Model(
        name=model.name,
        provider=model.provider,
        description=model.description,
        supports_streaming=model.supports_streaming,
        context_window=model.context_window,
        available=model.available,
        aliases=model.aliases,
    )
    if model.price is not None:
        message.price.CopyFrom(
            pb.ModelPrice(
                currency=model.price.currency,
                input_per_million=model.price.input_per_million,
                output_per_million=model.price.output_per_million,
            )
        )
    return message
