"""The workers that run transcription jobs, in every instance sharing the store.

Each worker claims the oldest queued job with a lease (or one whose lease expired: its
instance died), renews the lease while it works, writes the progress as the engine
reports it, and ends the job with its transcript or its error. If the lease cannot be
renewed (the owner cancelled the job, or the lease expired and another worker took the
job over), the worker stops at once and writes nothing more. On shutdown, a worker gives
its job back (`release`) so that another instance can take it without waiting for the
lease to expire. A worker takes a slot from admission control before claiming, so jobs
and synchronous requests share the instance's capacity.

A job claimed more than MAX_ATTEMPTS times (every instance running it died) is failed
rather than handed on forever. The audio of a finished job is removed after the retention
period by a sweeper.

Each status a worker moves a job to (running, succeeded, failed, queued when given back) is
told to `on_transition` (the metrics, wired by the application): transitions made by this
instance, since the jobs are shared by every instance.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import uuid
from collections.abc import Callable
from dataclasses import fields
from datetime import UTC, datetime, timedelta

from routeur_grpc.domain.caller import Caller
from routeur_grpc.domain.job_audio import JobAudioStore
from routeur_grpc.domain.records import FINISHED_JOB_STATUSES, TranscriptionJob, TranscriptResult
from routeur_grpc.domain.repositories import JobRepository
from routeur_grpc.domain.transcription import AudioInfo, UploadOptions, meeting_text
from routeur_grpc.errors import NotFound, RouteurError
from routeur_grpc.services.job_changes import JobChanges
from routeur_grpc.services.transcription import TranscriptionService
from routeur_grpc.services.transcription_admission import TranscriptionAdmission
from routeur_grpc.structured_logging import describe_exception
from routeur_grpc.transcription.engine import ProgressCallback, TranscriptionProgress

log = logging.getLogger(__name__)

PROGRESS_WRITE_INTERVAL_S = 0.2
MAX_ATTEMPTS = 5  # claims of one job (each after an instance died or stopped holding it)
ORPHAN_AUDIO_AGE = timedelta(hours=1)  # audio whose job was never created (a crash between)
_OPTION_NAMES = {field.name for field in fields(UploadOptions)}


class JobWorkerPool:
    """`workers` job workers and the audio sweeper of one instance."""

    def __init__(
        self,
        jobs: JobRepository,
        audio: JobAudioStore,
        transcription: TranscriptionService,
        admission: TranscriptionAdmission,
        changes: JobChanges,
        *,
        workers: int,
        lease_s: float,
        poll_interval_s: float,
        audio_retention_s: float,
        on_transition: Callable[[str], None] | None = None,
    ) -> None:
        self._jobs = jobs
        self._on_transition = on_transition or (lambda status: None)
        self._audio = audio
        self._transcription = transcription
        self._admission = admission
        self._changes = changes
        self._workers = workers
        self._lease_s = lease_s
        self._poll_s = poll_interval_s
        self._retention = timedelta(seconds=audio_retention_s)
        self._tasks: list[asyncio.Task[None]] = []
        self._instance = f"{os.uname().nodename[:40]}-{os.getpid()}-{uuid.uuid4().hex[:6]}"

    def start(self) -> None:
        if not self._transcription.engines.configured:
            return  # nothing could run a job; they wait for an instance that can
        for index in range(self._workers):
            worker_id = f"{self._instance}-w{index}"
            self._tasks.append(asyncio.create_task(self._work(worker_id), name=worker_id))
        self._tasks.append(asyncio.create_task(self._sweep(), name="job-audio-sweeper"))

    async def stop(self) -> None:
        """Stops the workers; each gives its job back for another instance."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()

    async def _work(self, worker_id: str) -> None:
        while True:
            try:
                await self._admission.wait_until_free()
                job = await self._jobs.claim_next(worker_id, self._lease_s)
                if job is not None:
                    self._on_transition("running")
                    log.info("job claimed", extra={"job_id": job.job_id, "attempt": job.attempts})
                    async with self._admission.held():
                        await self._run(job, worker_id)
                    continue
            except RouteurError as error:  # the store is unreachable: try again later
                log.warning("job worker cannot reach the store", extra={"reason": error.reason})
            except Exception as error:  # noqa: BLE001 - a worker must outlive one bad job
                log.error("job worker failed", extra=describe_exception(error))
            await self._changes.wait(self._poll_s)

    async def _run(self, job: TranscriptionJob, worker_id: str) -> None:
        if job.attempts > MAX_ATTEMPTS:
            # Every instance that took it stopped part-way: the file may be what kills them.
            await self._fail(
                job.job_id,
                worker_id,
                f"Given up after {MAX_ATTEMPTS} attempts: the servers running this job stopped "
                "before it finished. Retry with a shorter recording or contact the operator.",
            )
            log.warning("job given up", extra={"job_id": job.job_id, "attempts": job.attempts})
            self._changes.notify()
            return
        lost = asyncio.Event()
        progress = _ProgressWriter(self._jobs, job.job_id, worker_id, self._changes)
        work = asyncio.create_task(self._transcribe(job, progress.report))
        progress.on_lost(lambda: (lost.set(), work.cancel()))
        keeper = asyncio.create_task(self._keep_lease(job.job_id, worker_id, lost, work))
        try:
            result = await work
        except asyncio.CancelledError:
            if lost.is_set() and not _cancelling():
                log.info("job lost (cancelled or taken over)", extra={"job_id": job.job_id})
                return
            if await asyncio.shield(self._jobs.release(job.job_id, worker_id)):
                self._on_transition("queued")
            log.info("job given back at shutdown", extra={"job_id": job.job_id})
            raise
        except RouteurError as error:
            await progress.flush()
            await self._fail(job.job_id, worker_id, error.message)
            log.info("job failed", extra={"job_id": job.job_id, "reason": error.reason})
        except Exception as error:  # noqa: BLE001 - recorded on the job, not raised
            log.error(
                "job failed unexpectedly", extra={"job_id": job.job_id, **describe_exception(error)}
            )
            await self._fail(
                job.job_id,
                worker_id,
                f"Internal error while transcribing (job {job.job_id}); it was logged.",
            )
        else:
            await progress.flush()
            if await self._jobs.complete(job.job_id, worker_id, result):
                self._on_transition("succeeded")
            log.info("job succeeded", extra={"job_id": job.job_id})
        finally:
            keeper.cancel()
            progress.close()
            self._changes.notify()
        if not self._retention:
            await self._audio.delete(job.audio_path)

    async def _fail(self, job_id: str, worker_id: str, error: str) -> None:
        if await self._jobs.fail(job_id, worker_id, error):
            self._on_transition("failed")

    async def _transcribe(
        self, job: TranscriptionJob, on_progress: ProgressCallback
    ) -> TranscriptResult:
        options = UploadOptions(**{k: v for k, v in job.options.items() if k in _OPTION_NAMES})
        info = AudioInfo(
            format=str(job.options.get("format", "")),
            duration_s=float(job.options.get("duration_s") or 0.0),
        )
        caller = Caller(owner_id=job.owner_id, request_id=f"job-{job.job_id}")
        meeting = job.job_type == "transcription_meeting"
        async with self._audio.local_copy(job.audio_path) as path:
            transcript = await self._transcription.run(
                path,
                info,
                options,
                caller,
                meeting=meeting,
                on_progress=on_progress,
            )
        text = transcript.text
        if meeting:
            report = await self._transcription.reporter.report(text, caller)
            text = meeting_text(report, transcript.text)
        return TranscriptResult(
            text=text,
            language=transcript.language,
            duration_s=transcript.duration,
            model=transcript.model,
        )

    async def _keep_lease(
        self, job_id: str, worker_id: str, lost: asyncio.Event, work: asyncio.Task[object]
    ) -> None:
        """Renews the lease three times per lease period; cancels the work once it is gone."""
        while True:
            await asyncio.sleep(self._lease_s / 3)
            try:
                held = await self._jobs.renew_lease(job_id, worker_id, self._lease_s)
            except RouteurError as error:
                log.warning("lease not renewed", extra={"job_id": job_id, "reason": error.reason})
                continue
            if not held:
                lost.set()
                work.cancel()
                return

    async def _sweep(self) -> None:
        """Removes the audio of finished jobs once the retention period has passed."""
        interval = max(1.0, min(300.0, self._retention.total_seconds() / 4 or 60.0))
        while True:
            try:
                await self._sweep_once()
            except Exception as error:  # noqa: BLE001 - try again at the next round
                log.warning("job audio sweep failed", extra=describe_exception(error))
            await asyncio.sleep(interval)

    async def _sweep_once(self) -> None:
        now = datetime.now(UTC)
        async for stored in self._audio.stored_before(now - self._retention):
            if not stored.job_id:
                if stored.stored_at < now - max(self._retention, ORPHAN_AUDIO_AGE):
                    await self._audio.delete(stored.key)
                continue
            try:
                job = await self._jobs.get(stored.owner_id, stored.job_id)
            except NotFound:
                await self._audio.delete(stored.key)
                continue
            if job.status in FINISHED_JOB_STATUSES and job.update_time < now - self._retention:
                await self._audio.delete(stored.key)


def _cancelling() -> bool:
    task = asyncio.current_task()
    return bool(task and task.cancelling())


class _ProgressWriter:
    """Takes the engine's progress reports (from any thread) and writes the percentage to
    the job, at most every PROGRESS_WRITE_INTERVAL_S and only when it moved."""

    def __init__(
        self,
        jobs: JobRepository,
        job_id: str,
        worker_id: str,
        changes: JobChanges,
    ) -> None:
        self._jobs = jobs
        self._job_id = job_id
        self._worker_id = worker_id
        self._lost: Callable[[], object] = lambda: None
        self._changes = changes
        self._loop = asyncio.get_running_loop()
        self._latest = 0
        self._written = 0
        self._moved = asyncio.Event()
        self._task = asyncio.create_task(self._write_loop())

    def on_lost(self, callback: Callable[[], object]) -> None:
        """Called when a progress write finds the lease gone (cancelled or taken over)."""
        self._lost = callback

    def report(self, progress: TranscriptionProgress) -> None:
        # Engines may report from a worker thread.
        percent = min(99, int(progress.percent))  # 100 is written with the transcript
        self._loop.call_soon_threadsafe(self._set, percent)

    def _set(self, percent: int) -> None:
        if percent > self._latest:
            self._latest = percent
            self._moved.set()

    async def _write_loop(self) -> None:
        while True:
            await self._moved.wait()
            self._moved.clear()
            await self._write()
            await asyncio.sleep(PROGRESS_WRITE_INTERVAL_S)

    async def _write(self) -> None:
        if self._latest <= self._written:
            return
        percent = self._latest
        try:
            held = await self._jobs.report_progress(self._job_id, self._worker_id, percent)
        except RouteurError:
            return  # progress is advisory; the lease keeper deals with an unreachable store
        self._written = percent
        if held:
            self._changes.notify()
        else:
            self._lost()

    async def flush(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        await self._write()

    def close(self) -> None:
        self._task.cancel()
