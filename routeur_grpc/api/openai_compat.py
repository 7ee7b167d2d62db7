"""OpenAICompatService servicer: OpenAI's chat, models and audio API over Routeur's domain.

Only translates (see `openai_compat_convert`); the completion and models services do the
work, so OpenAI's SDKs reach every provider Routeur routes to.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import aclosing

import grpc
from google.api import httpbody_pb2
from routeur.v1 import openai_compat_service_pb2 as pb
from routeur.v1 import openai_compat_service_pb2_grpc as pb_grpc

from routeur_grpc.api import openai_audio_convert as audio_convert
from routeur_grpc.api import openai_compat_convert as convert
from routeur_grpc.api.answer_headers import send_answer_headers
from routeur_grpc.api.caller import caller_of
from routeur_grpc.api.upload_stream import IncomingUpload
from routeur_grpc.errors import InvalidArgument, NotImplementedFeature
from routeur_grpc.services.completion import CompletionService
from routeur_grpc.services.models import ModelsService
from routeur_grpc.services.transcription import TranscriptionService


class OpenAICompatServicer(pb_grpc.OpenAICompatServiceServicer):
    def __init__(
        self,
        completions: CompletionService,
        models: ModelsService,
        transcription: TranscriptionService | None = None,
    ) -> None:
        self._completions = completions
        self._models = models
        self._transcription = transcription

    async def CreateChatCompletion(
        self, request: pb.CreateChatCompletionRequest, context: grpc.aio.ServicerContext
    ) -> pb.CreateChatCompletionResponse:
        if request.stream:
            raise InvalidArgument(
                "`stream` is true but CreateChatCompletion answers in one piece: call "
                "StreamChatCompletion, or POST /v1/chat/completions through the REST gateway."
            )
        # OpenAI's SDK users expect the raw model: no agent, no system prompt of ours.
        result = await self._completions.complete(
            convert.chat_request(request), caller_of(context), direct=True
        )
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
        chunks = self._completions.stream(
            convert.chat_request(request), caller_of(context), direct=True
        )
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
    ) -> httpbody_pb2.HttpBody:
        if self._transcription is None:
            raise NotImplementedFeature(
                "POST /v1/audio/transcriptions is not available: this server has no "
                "transcription service.",
                metadata={"method": "routeur.v1.OpenAICompatService/CreateAudioTranscription"},
            )
        upload = IncomingUpload(request_iterator, "body")
        await upload.start()
        transcript = await self._transcription.transcribe(
            upload, caller_of(context), default_aliases=audio_convert.OPENAI_DEFAULT_MODELS
        )
        # OpenAI's `json` and `text` answers have no model field: say which one answered.
        await context.send_initial_metadata(((audio_convert.MODEL_HEADER, transcript.model),))
        return audio_convert.transcription_body(transcript, upload.form.get("response_format", ""))
