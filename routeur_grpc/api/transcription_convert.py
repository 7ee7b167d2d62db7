"""Transcription values ↔ protobuf messages (the JSON keys of the CAPL Routeur IA API)."""

from __future__ import annotations

from routeur.v1 import transcription_service_pb2 as pb

from routeur_grpc.api.timestamps import timestamp
from routeur_grpc.domain.records import TranscriptionJob
from routeur_grpc.domain.transcription import (
    MeetingReport,
    MeetingTranscript,
    SupportedFormats,
    Transcript,
)


def transcribe_response(transcript: Transcript) -> pb.TranscribeAudioResponse:
    return pb.TranscribeAudioResponse(
        text=transcript.text,
        language=transcript.language,
        duration=transcript.duration,
        model=transcript.model,
    )


def meeting_response(meeting: MeetingTranscript) -> pb.TranscribeMeetingResponse:
    transcript = meeting.transcript
    return pb.TranscribeMeetingResponse(
        text=meeting.text,
        transcript=transcript.text,
        language=transcript.language,
        duration=transcript.duration,
        model=transcript.model,
        report=meeting_report(meeting.report),
        project_id=meeting.project_id,
    )


def meeting_report(report: MeetingReport) -> pb.MeetingReport:
    return pb.MeetingReport(
        summary=report.summary,
        decisions=list(report.decisions),
        action_items=[
            pb.MeetingActionItem(description=item.description, owner=item.owner, due=item.due)
            for item in report.action_items
        ],
        model=report.model,
        text=report.render(),
    )


def job_message(job: TranscriptionJob) -> pb.TranscriptionJob:
    return pb.TranscriptionJob(
        job_id=job.job_id,
        status=job.status,
        job_type=job.job_type,
        progress_percent=job.progress_percent,
        transcript_text=job.transcript_text,
        transcript_language=job.transcript_language,
        transcript_duration=job.transcript_duration or 0.0,
        transcript_model=job.transcript_model,
        error=job.error,
        created_at=timestamp(job.create_time),
        updated_at=timestamp(job.update_time),
    )


def supported_formats(formats: SupportedFormats) -> pb.GetSupportedFormatsResponse:
    return pb.GetSupportedFormatsResponse(
        supported_formats=list(formats.supported_formats),
        max_file_size_mb=formats.max_file_size_mb,
        model=formats.model,
        languages=formats.languages,
        models=list(formats.models),
    )
