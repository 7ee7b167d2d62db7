"""Transcription jobs as their owner sees them: create from an upload, get, watch, list,
cancel.

Creating a job checks everything a worker would refuse (the format, the model, a
meeting's length) before answering, so a job that is accepted can run; its audio goes to
the job audio store, where any instance can read it, and the job is `queued` at once.
Jobs belong to their creator: another owner's job is NOT_FOUND, like a missing one.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import asdict

from routeur_grpc.domain.caller import Caller
from routeur_grpc.domain.job_audio import JobAudioStore
from routeur_grpc.domain.records import FINISHED_JOB_STATUSES, TranscriptionJob
from routeur_grpc.domain.repositories import JobRepository, Page
from routeur_grpc.domain.transcription import JOB_KINDS
from routeur_grpc.errors import InvalidArgument, ResourceExhausted
from routeur_grpc.media.probe import probe_audio
from routeur_grpc.services.job_changes import JobChanges
from routeur_grpc.services.transcription import (
    AudioUpload,
    TranscriptionService,
    check_options,
    declared_format,
)

log = logging.getLogger(__name__)

WATCH_HEARTBEAT_S = 60.0
QUEUE_SCAN = 1000  # the newest jobs of a caller looked at to count those still waiting


class TranscriptionJobService:
    def __init__(
        self,
        jobs: JobRepository,
        audio: JobAudioStore,
        transcription: TranscriptionService,
        changes: JobChanges,
        *,
        max_waiting_per_caller: int,
        poll_interval_s: float,
        retry_after_s: float,
        on_transition: Callable[[str], None] | None = None,
    ) -> None:
        """`on_transition(status)` is told of each job this service queues or cancels."""
        self._jobs = jobs
        self._on_transition = on_transition or (lambda status: None)
        self._audio = audio
        self._transcription = transcription
        self._changes = changes
        self._max_waiting = max_waiting_per_caller
        self._poll_s = poll_interval_s
        self._retry_after_s = retry_after_s

    async def create(self, upload: AudioUpload, caller: Caller, kind: str = "") -> TranscriptionJob:
        """Receives the upload, checks it, stores its audio and queues the job."""
        self._transcription.engines.default_engine()
        await self._check_queue(caller)
        spool = self._transcription.spool
        async with spool.receive(upload.chunks()) as audio:
            options = check_options(upload.options())
            kind = (options.kind or kind or "audio").strip().lower()
            if kind not in JOB_KINDS:
                raise InvalidArgument(
                    f"`kind` is {kind[:20]!r}: use `audio` or `meeting`.", reason="INVALID_ARGUMENT"
                )
            meeting = kind == "meeting"
            info = await probe_audio(audio.path, declared_format(options))
            if meeting:
                self._transcription.check_meeting_duration(info, options)
            self._transcription.engines.resolve(options.model, meeting=meeting)
            key = await self._audio.put(caller.owner_id, audio.path)
        stored = {**asdict(options), "format": info.format, "duration_s": info.duration_s}
        try:
            job = await self._jobs.create(
                caller.owner_id, job_type=JOB_KINDS[kind], audio_path=key, options=stored
            )
        except BaseException:
            await self._audio.delete(key)
            raise
        await self._audio.attach(key, job.job_id)
        self._changes.notify()
        self._on_transition("queued")
        log.info("transcription job queued", extra={"job_id": job.job_id, "kind": kind})
        return job

    async def _check_queue(self, caller: Caller) -> None:
        page = await self._jobs.list(caller.owner_id, page_size=QUEUE_SCAN)
        waiting = sum(1 for job in page.items if job.status in ("queued", "running"))
        if waiting >= self._max_waiting:
            raise ResourceExhausted(
                f"You have {waiting} transcription jobs waiting or running, the most allowed: "
                "wait for one to finish (or cancel one), then retry.",
                reason="TOO_MANY_JOBS",
                retry_after_s=self._retry_after_s,
            )

    async def get(self, caller: Caller, job_id: str) -> TranscriptionJob:
        return await self._jobs.get(caller.owner_id, job_id)

    async def list(self, caller: Caller, page_size: int, page_token: str) -> Page[TranscriptionJob]:
        return await self._jobs.list(caller.owner_id, page_size=page_size, page_token=page_token)

    async def cancel(self, caller: Caller, job_id: str) -> TranscriptionJob:
        before = await self._jobs.get(caller.owner_id, job_id)
        job = await self._jobs.cancel(caller.owner_id, job_id)
        self._changes.notify()  # the worker holding it stops at its next lease renewal
        if before.status != "cancelled":  # cancelling is idempotent: count it once
            self._on_transition("cancelled")
        return job

    async def watch(self, caller: Caller, job_id: str) -> AsyncIterator[TranscriptionJob]:
        """The job now, then each time it changes, until it has ended.

        A job that waits long in the queue does not change: it is sent again every
        WATCH_HEARTBEAT_S, so that proxies (Envoy's idle timeout) keep the stream open.
        """
        seen: tuple[object, ...] = ()
        sent_at = 0.0
        while True:
            job = await self._jobs.get(caller.owner_id, job_id)
            state = (job.status, job.progress_percent, job.update_time)
            if state != seen or time.monotonic() - sent_at >= WATCH_HEARTBEAT_S:
                seen, sent_at = state, time.monotonic()
                yield job
            if job.status in FINISHED_JOB_STATUSES:
                return
            await self._changes.wait(self._poll_s)
