"""ModelService servicer: the catalog, as the router knows it."""

from __future__ import annotations

import grpc
from routeur.v1 import model_service_pb2 as pb
from routeur.v1 import model_service_pb2_grpc as pb_grpc

from routeur_grpc.api.list_paging import page_of
from routeur_grpc.domain.models import ModelInfo
from routeur_grpc.errors import InvalidArgument
from routeur_grpc.routing.router import ModelRouter


class ModelServicer(pb_grpc.ModelServiceServicer):
    def __init__(self, router: ModelRouter) -> None:
        self._router = router

    async def ListModels(
        self, request: pb.ListModelsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListModelsResponse:
        models = [
            model
            for model in await self._router.list_models()
            if (not request.provider or model.provider == request.provider)
            and (model.available or not request.available_only)
        ]
        models.sort(key=lambda model: (model.provider, model.name))
        page, next_token = page_of(models, request.page_size, request.page_token)
        return pb.ListModelsResponse(
            models=[model_message(model) for model in page],
            total=len(models),
            next_page_token=next_token,
        )

    async def GetModel(
        self, request: pb.GetModelRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetModelResponse:
        if not request.name:
            raise InvalidArgument("`name` is empty: give a model name from ListModels.")
        return pb.GetModelResponse(model=model_message(await self._router.get_model(request.name)))


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
