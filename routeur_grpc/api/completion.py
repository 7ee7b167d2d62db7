"""CompletionService servicer: protobuf in, domain call, protobuf out."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import aclosing

import grpc
from routeur.v1 import completion_service_pb2 as pb
from routeur.v1 import completion_service_pb2_grpc as pb_grpc

from routeur_grpc.api import completion_convert as convert
from routeur_grpc.api.answer_headers import send_answer_headers
from routeur_grpc.api.caller import caller_of
from routeur_grpc.errors import InvalidArgument
from routeur_grpc.services.completion import CompletionService


class CompletionServicer(pb_grpc.CompletionServiceServicer):
    def __init__(self, completions: CompletionService) -> None:
        self._completions = completions

    async def Complete(
        self, request: pb.CompleteRequest, context: grpc.aio.ServicerContext
    ) -> pb.CompleteResponse:
        if request.stream:
            raise InvalidArgument(
                "`stream` is true but Complete answers in one piece: call StreamCompletion "
                "(REST: POST /completion/stream) to stream, or leave `stream` false."
            )
        result = await self._completions.complete(
            convert.completion_request(request), caller_of(context)
        )
        await send_answer_headers(context, result.metadata)
        return convert.complete_response(result)

    async def StreamCompletion(
        self, request: pb.StreamCompletionRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[pb.StreamCompletionResponse]:
        chunks = self._completions.stream(convert.completion_request(request), caller_of(context))
        first = True
        async with aclosing(chunks):
            async for chunk in chunks:
                if first:
                    first = False
                    await send_answer_headers(context, chunk.metadata)
                yield convert.stream_response(chunk)
