"""A small gRPC server for what the real one cannot show on demand: the metadata Envoy
forwards, and a stream that fails after its first chunks. Also health-checked by Envoy."""

from __future__ import annotations

import asyncio

import grpc
from google.rpc import code_pb2, status_pb2
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from routeur.v1 import completion_service_pb2 as completion_pb
from routeur.v1 import completion_service_pb2_grpc as completion_grpc
from routeur.v1 import health_service_pb2 as health_pb
from routeur.v1 import health_service_pb2_grpc as health_service_grpc
from routeur.v1 import transcription_service_pb2 as transcription_pb
from routeur.v1 import transcription_service_pb2_grpc as transcription_grpc

CHUNK_INTERVAL_S = 0.15
CHUNKS = 4


class EchoHealthServicer(health_service_grpc.HealthServiceServicer):
    """Answers /health with the request's metadata in the text fields."""

    async def GetHealth(self, request, context):  # type: ignore[no-untyped-def]
        metadata = dict(context.invocation_metadata() or ())
        return health_pb.GetHealthResponse(
            status="healthy",
            title=str(metadata.get("authorization", "")),
            environment=str(metadata.get("x-request-id", "")),
            version=str(metadata.get("x-envoy-original-path", "")),
        )


class PacedCompletionServicer(completion_grpc.CompletionServiceServicer):
    """Streams CHUNKS pieces CHUNK_INTERVAL_S apart; message `fail` ends with an error chunk,
    as the router does when a provider fails after the first token."""

    async def Complete(self, request, context):  # type: ignore[no-untyped-def]
        return completion_pb.CompleteResponse(
            response=f"unary:{request.message}", model=request.model
        )

    async def StreamCompletion(self, request, context):  # type: ignore[no-untyped-def]
        for index in range(CHUNKS):
            yield completion_pb.StreamCompletionResponse(content=f"piece{index} ")
            await asyncio.sleep(CHUNK_INTERVAL_S)
        error = None
        if request.message == "fail":
            error = status_pb2.Status(code=code_pb2.UNAVAILABLE, message="provider went away")
        yield completion_pb.StreamCompletionResponse(done=True, error=error)


class CountingTranscriptionServicer(transcription_grpc.TranscriptionServiceServicer):
    """Says how an upload arrived: `messages bytes content-type`, and the first language."""

    async def TranscribeAudio(self, request_iterator, context):  # type: ignore[no-untyped-def]
        messages, size, content_type, language = 0, 0, "", None
        async for message in request_iterator:
            messages += 1
            size += len(message.audio.data)
            content_type = content_type or message.audio.content_type
            language = message.language if language is None else language
        return transcription_pb.TranscribeAudioResponse(
            text=f"{messages} {size} {content_type}", language=language or ""
        )


async def start_stub_upstream() -> tuple[grpc.aio.Server, str]:
    server = grpc.aio.server()
    health_service_grpc.add_HealthServiceServicer_to_server(EchoHealthServicer(), server)
    completion_grpc.add_CompletionServiceServicer_to_server(PacedCompletionServicer(), server)
    transcription_grpc.add_TranscriptionServiceServicer_to_server(
        CountingTranscriptionServicer(), server
    )
    checker = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(checker, server)
    await checker.set("", health_pb2.HealthCheckResponse.SERVING)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    return server, f"127.0.0.1:{port}"
