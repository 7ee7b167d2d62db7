"""OpenAICompatService servicer: OpenAI's chat and models API over Routeur's domain.

Only translates (see `openai_compat_convert`); the completion and models services do the
work, so OpenAI's SDKs reach every provider Routeur routes to.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import aclosing

import grpc
from routeur.v1 import openai_compat_service_pb2 as pb
from routeur.v1 import openai_compat_service_pb2_grpc as pb_grpc

from routeur_grpc.api import openai_compat_convert as convert
from routeur_grpc.api.answer_headers import send_answer_headers
from routeur_grpc.api.caller import caller_of
from routeur_grpc.errors import InvalidArgument, NotImplementedFeature
from routeur_grpc.services.completion import CompletionService
from routeur_grpc.services.models import ModelsService


class OpenAICompatServicer(pb_grpc.OpenAICompatServiceServicer):
    def __init__(self, completions: CompletionService, models: ModelsService) -> None:
        self._completions = completions
        self._models = models

    async def CreateChatCompletion(
        self, request: pb.CreateChatCompletionRequest, context: grpc.aio.ServicerContext
    ) -> pb.CreateChatCompletionResponse:
        if request.stream:
            raise InvalidArgument(
                "`stream` is true but CreateChatCompletion answers in one piece: call "
                "StreamChatCompletion, or POST /v1/chat/completions through the REST gateway."
            )
        result = await self._completions.complete(convert.chat_request(request), caller_of(context))
        await send_answer_headers(context, result.metadata)
        return convert.chat_completion(
            result,
            completion_id=convert.new_completion_id(),
            created=int(time.time()),
            max_tokens=convert.max_tokens_of(request),
        )

    async def StreamChatCompletion(
        self, request: pb.StreamChatCompletionRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[pb.StreamChatCompletionResponse]:
        encoder = convert.ChatChunkEncoder(request)
        chunks = self._completions.stream(convert.chat_request(request), caller_of(context))
        first = True
        async with aclosing(chunks):
            async for chunk in chunks:
                if first:
                    first = False
                    await send_answer_headers(context, chunk.metadata)
                for message in encoder.encode(chunk):
                    yield message

    async def ListOpenAIModels(
        self, request: pb.ListOpenAIModelsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListOpenAIModelsResponse:
        # OpenAI's list is what can answer here: models with a configured provider.
        return convert.models_list(await self._models.list(available_only=True))

    async def CreateAudioTranscription(
        self,
        request_iterator: AsyncIterator[pb.CreateAudioTranscriptionRequest],
        context: grpc.aio.ServicerContext,
    ) -> pb.CreateAudioTranscriptionResponse:
        raise NotImplementedFeature(
            "POST /v1/audio/transcriptions is not available yet: audio transcription is not "
            "built in this version of Routeur.",
            metadata={"method": "routeur.v1.OpenAICompatService/CreateAudioTranscription"},
        )
