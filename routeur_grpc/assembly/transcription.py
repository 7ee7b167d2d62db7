"""Speech to text: the engines, the upload spool, admission, the service, and durable jobs
with their worker pool (started here, so that queued jobs resume)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from routeur_grpc.assembly.storage import job_audio_store
from routeur_grpc.domain.job_audio import JobAudioStore
from routeur_grpc.domain.repositories import Store
from routeur_grpc.media.spool import MEGABYTE, AudioSpool
from routeur_grpc.observability.metrics import Metrics
from routeur_grpc.services.completion import CompletionService
from routeur_grpc.services.job_changes import JobChanges
from routeur_grpc.services.meeting_report import MeetingReporter
from routeur_grpc.services.transcription import TranscriptionLimits, TranscriptionService
from routeur_grpc.services.transcription_admission import TranscriptionAdmission
from routeur_grpc.services.transcription_jobs import TranscriptionJobService
from routeur_grpc.services.transcription_workers import JobWorkerPool
from routeur_grpc.services.usage import UsageRecorder
from routeur_grpc.settings import Settings
from routeur_grpc.transcription.engine import TranscriptionEngine
from routeur_grpc.transcription.registry import TranscriptionEngines, build_engines


@dataclass
class Transcription:
    """The transcription parts the servicers and the shutdown need."""

    service: TranscriptionService
    jobs: TranscriptionJobService
    workers: JobWorkerPool
    job_audio: JobAudioStore


async def engines(
    settings: Settings, given: Mapping[str, TranscriptionEngine] | None
) -> TranscriptionEngines:
    """The engines the settings describe, started; or those a test gives (an empty mapping
    means "no engine")."""
    if given is not None:
        return TranscriptionEngines(given)
    built = build_engines(settings)
    await built.start()  # loads the local model, once
    return built


async def start_transcription(
    settings: Settings,
    store: Store,
    usage: UsageRecorder,
    completions: CompletionService,
    metrics: Metrics,
    given_engines: Mapping[str, TranscriptionEngine] | None,
) -> Transcription:
    """Build the service and the job queue; start the workers."""
    registry = await engines(settings, given_engines)
    spool = AudioSpool(settings.data_dir / "uploads", settings.max_upload_mb * MEGABYTE)
    spool.prepare()
    admission = TranscriptionAdmission(
        settings.transcription_max_running,
        settings.transcription_max_running_per_caller,
        settings.transcription_retry_after_s,
    )
    service = TranscriptionService(
        registry,
        spool,
        admission,
        usage,
        MeetingReporter(
            completions,
            settings.meeting_report_model or settings.local_model_name,
            settings.meeting_report_max_chars,
            settings.meeting_report_max_tokens,
        ),
        TranscriptionLimits(
            max_meeting_duration_s=settings.meeting_max_duration_s,
            usd_to_currency=1.0 if settings.currency == "USD" else settings.usd_to_eur_rate,
        ),
    )
    job_audio = job_audio_store(settings, spool)
    changes = JobChanges()
    jobs = TranscriptionJobService(
        store.jobs,
        job_audio,
        service,
        changes,
        max_waiting_per_caller=settings.transcription_max_waiting_jobs_per_caller,
        poll_interval_s=settings.transcription_job_poll_s,
        retry_after_s=settings.transcription_retry_after_s,
        on_transition=metrics.job_transition,
    )
    workers = JobWorkerPool(
        store.jobs,
        job_audio,
        service,
        admission,
        changes,
        workers=settings.transcription_job_workers,
        lease_s=settings.transcription_job_lease_s,
        poll_interval_s=settings.transcription_job_poll_s,
        audio_retention_s=settings.transcription_audio_retention_s,
        on_transition=metrics.job_transition,
    )
    workers.start()
    return Transcription(service, jobs, workers, job_audio)
