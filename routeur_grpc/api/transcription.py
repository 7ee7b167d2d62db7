"""TranscriptionService servicer: uploads and jobs, protobuf in, domain call, protobuf out."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import aclosing

import grpc
from routeur.v1 import transcription_service_pb2 as pb
from routeur.v1 import transcription_service_pb2_grpc as pb_grpc

from routeur_grpc.api import transcription_convert as convert
from routeur_grpc.api.caller import caller_of
from routeur_grpc.api.upload_stream import IncomingUpload
from routeur_grpc.services.transcription import TranscriptionService
from routeur_grpc.services.transcription_jobs import TranscriptionJobService

_BODY = "audio"


async def _upload(requests: AsyncIterator[object]) -> IncomingUpload:
    upload = IncomingUpload(requests, _BODY)
    await upload.start()
    return upload


class TranscriptionServicer(pb_grpc.TranscriptionServiceServicer):
    def __init__(self, transcription: TranscriptionService, jobs: TranscriptionJobService) -> None:
        self._transcription = transcription
        self._jobs = jobs

    async def TranscribeAudio(
        self,
        request_iterator: AsyncIterator[pb.TranscribeAudioRequest],
        context: grpc.aio.ServicerContext,
    ) -> pb.TranscribeAudioResponse:
        caller = caller_of(context)
        transcript = await self._transcription.transcribe(await _upload(request_iterator), caller)
        return convert.transcribe_response(transcript)

    async def TranscribeMeeting(
        self,
        request_iterator: AsyncIterator[pb.TranscribeMeetingRequest],
        context: grpc.aio.ServicerContext,
    ) -> pb.TranscribeMeetingResponse:
        caller = caller_of(context)
        meeting = await self._transcription.transcribe_meeting(
            await _upload(request_iterator), caller
        )
        return convert.meeting_response(meeting)

    async def CreateTranscriptionJob(
        self,
        request_iterator: AsyncIterator[pb.CreateTranscriptionJobRequest],
        context: grpc.aio.ServicerContext,
    ) -> pb.CreateTranscriptionJobResponse:
        caller = caller_of(context)
        job = await self._jobs.create(await _upload(request_iterator), caller)
        message = convert.job_message(job)
        return pb.CreateTranscriptionJobResponse(
            job_id=message.job_id, status=message.status, created_at=message.created_at
        )

    async def GetTranscriptionJob(
        self, request: pb.GetTranscriptionJobRequest, context: grpc.aio.ServicerContext
    ) -> pb.TranscriptionJob:
        return convert.job_message(await self._jobs.get(caller_of(context), request.job_id))

    async def WatchTranscriptionJob(
        self, request: pb.WatchTranscriptionJobRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[pb.WatchTranscriptionJobResponse]:
        changes = self._jobs.watch(caller_of(context), request.job_id)
        async with aclosing(changes):
            async for job in changes:
                yield pb.WatchTranscriptionJobResponse(job=convert.job_message(job))

    async def ListTranscriptionJobs(
        self, request: pb.ListTranscriptionJobsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListTranscriptionJobsResponse:
        page = await self._jobs.list(caller_of(context), request.page_size, request.page_token)
        return pb.ListTranscriptionJobsResponse(
            jobs=[convert.job_message(job) for job in page.items],
            next_page_token=page.next_page_token,
        )

    async def CancelTranscriptionJob(
        self, request: pb.CancelTranscriptionJobRequest, context: grpc.aio.ServicerContext
    ) -> pb.CancelTranscriptionJobResponse:
        job = await self._jobs.cancel(caller_of(context), request.job_id)
        return pb.CancelTranscriptionJobResponse(job=convert.job_message(job))

    async def GetSupportedFormats(
        self, request: pb.GetSupportedFormatsRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetSupportedFormatsResponse:
        return convert.supported_formats(self._transcription.supported_formats())
