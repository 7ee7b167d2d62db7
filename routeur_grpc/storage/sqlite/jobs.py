"""Transcription jobs and their leases, in SQLite.

Claims are single `UPDATE … WHERE job_id = (SELECT … LIMIT 1) RETURNING` statements inside
`BEGIN IMMEDIATE` transactions, so two claimers, in this process or another one on the same
file, never get the same job.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from routeur_grpc.domain.records import (
    JOB_TYPES,
    MAX_JSON_BYTES,
    MAX_PATH_CHARS,
    TranscriptionJob,
    TranscriptResult,
)
from routeur_grpc.domain.repositories import Page
from routeur_grpc.errors import FailedPrecondition
from routeur_grpc.storage import validation as check
from routeur_grpc.storage.fields import job_error, transcript_result
from routeur_grpc.storage.ids import (
    IdGenerator,
    check_id,
    from_millis,
    is_valid_id,
    not_found,
    to_millis,
    utc_now,
)
from routeur_grpc.storage.paging import build_page, id_page
from routeur_grpc.storage.sqlite.database import SqliteDatabase

_COLUMNS = (
    "job_id, owner_id, job_type, status, progress_percent, options_json, audio_path,"
    " transcript_text, transcript_language, transcript_duration, transcript_model, error,"
    " create_time, update_time, lease_owner, lease_expires_at, attempts"
)
# The lease holder's rows: the job is running and leased to this worker.
_HELD = "job_id = ? AND lease_owner = ? AND status = 'running'"


def _job(row: sqlite3.Row) -> TranscriptionJob:
    expires = row["lease_expires_at"]
    return TranscriptionJob(
        job_id=row["job_id"],
        owner_id=row["owner_id"],
        job_type=row["job_type"],
        status=row["status"],
        progress_percent=row["progress_percent"],
        options=json.loads(row["options_json"]),
        audio_path=row["audio_path"],
        transcript_text=row["transcript_text"],
        transcript_language=row["transcript_language"],
        transcript_duration=row["transcript_duration"],
        transcript_model=row["transcript_model"],
        error=row["error"],
        create_time=from_millis(row["create_time"]),
        update_time=from_millis(row["update_time"]),
        lease_owner=row["lease_owner"],
        lease_expires_at=None if expires is None else from_millis(expires),
        attempts=row["attempts"],
    )


class SqliteJobRepository:
    """`JobRepository` over the `jobs` table."""

    def __init__(self, db: SqliteDatabase, ids: IdGenerator) -> None:
        self._db = db
        self._ids = ids

    async def create(
        self,
        owner_id: str,
        *,
        job_type: str,
        audio_path: str,
        options: Mapping[str, Any] | None = None,
    ) -> TranscriptionJob:
        owner_id = check.owner_id(owner_id)
        job_type = check.choice("job_type", job_type, JOB_TYPES)
        audio_path = check.text("audio_path", audio_path, max_chars=MAX_PATH_CHARS)
        options_value, options_json = check.json_document(
            "options", {} if options is None else options, max_bytes=MAX_JSON_BYTES
        )
        now = utc_now()
        job = TranscriptionJob(
            job_id=self._ids.new_id(now),
            owner_id=owner_id,
            job_type=job_type,  # type: ignore[arg-type]
            status="queued",
            progress_percent=0,
            options=options_value,
            audio_path=audio_path,
            transcript_text="",
            transcript_language="",
            transcript_duration=None,
            transcript_model="",
            error="",
            create_time=now,
            update_time=now,
            lease_owner=None,
            lease_expires_at=None,
            attempts=0,
        )
        async with self._db.write() as tx:
            await tx.execute(
                f"INSERT INTO jobs ({_COLUMNS}) VALUES"
                " (?, ?, ?, 'queued', 0, ?, ?, '', '', NULL, '', '', ?, ?, NULL, NULL, 0)",
                (
                    job.job_id,
                    owner_id,
                    job_type,
                    options_json,
                    audio_path,
                    to_millis(now),
                    to_millis(now),
                ),
            )
        return job

    async def get(self, owner_id: str, job_id: str) -> TranscriptionJob:
        owner_id = check.owner_id(owner_id)
        job_id = check_id("job", job_id)
        row = await self._db.fetchone(
            f"SELECT {_COLUMNS} FROM jobs WHERE job_id = ? AND owner_id = ?", (job_id, owner_id)
        )
        if row is None:
            raise not_found("job", job_id)
        return _job(row)

    async def list(
        self, owner_id: str, *, page_size: int = 0, page_token: str = ""
    ) -> Page[TranscriptionJob]:
        owner_id = check.owner_id(owner_id)
        query = id_page(("jobs.list", owner_id), page_size, page_token)
        after = "" if query.after is None else "AND job_id < ?"
        params = () if query.after is None else (query.after,)
        rows = await self._db.fetchall(
            f"SELECT {_COLUMNS} FROM jobs WHERE owner_id = ? {after} ORDER BY job_id DESC LIMIT ?",
            (owner_id, *params, query.fetch),
        )
        return build_page(query, [_job(r) for r in rows], lambda j: j.job_id)

    async def cancel(self, owner_id: str, job_id: str) -> TranscriptionJob:
        owner_id = check.owner_id(owner_id)
        job_id = check_id("job", job_id)
        async with self._db.write() as tx:
            row = await tx.fetchone(
                "UPDATE jobs SET status = 'cancelled', lease_owner = NULL,"
                " lease_expires_at = NULL, update_time = ?"
                " WHERE job_id = ? AND owner_id = ? AND status IN ('queued', 'running')"
                f" RETURNING {_COLUMNS}",
                (to_millis(utc_now()), job_id, owner_id),
            )
            if row is None:
                row = await tx.fetchone(
                    f"SELECT {_COLUMNS} FROM jobs WHERE job_id = ? AND owner_id = ?",
                    (job_id, owner_id),
                )
        if row is None:
            raise not_found("job", job_id)
        job = _job(row)
        if job.status != "cancelled":
            raise FailedPrecondition(
                f"job {job_id} has already {job.status}: it cannot be cancelled."
            )
        return job

    async def claim_next(self, worker_id: str, lease_s: float) -> TranscriptionJob | None:
        worker_id = check.worker_id(worker_id)
        lease = timedelta(seconds=check.lease_seconds(lease_s))
        now = utc_now()
        async with self._db.write() as tx:
            row = await tx.fetchone(
                "UPDATE jobs SET status = 'running', lease_owner = ?, lease_expires_at = ?,"
                " attempts = attempts + 1, progress_percent = 0, update_time = ?"
                " WHERE job_id = (SELECT job_id FROM jobs"
                "  WHERE status = 'queued' OR (status = 'running' AND lease_expires_at < ?)"
                "  ORDER BY job_id LIMIT 1)"
                f" RETURNING {_COLUMNS}",
                (worker_id, to_millis(now + lease), to_millis(now), to_millis(now)),
            )
        return None if row is None else _job(row)

    async def _update_held(
        self, job_id: str, worker_id: str, assignments: str, params: tuple[object, ...]
    ) -> bool:
        worker_id = check.worker_id(worker_id)
        if not is_valid_id(job_id):
            return False
        async with self._db.write() as tx:
            changed = await tx.execute(
                f"UPDATE jobs SET {assignments}, update_time = ? WHERE {_HELD}",
                (*params, to_millis(utc_now()), job_id, worker_id),
            )
        return changed == 1

    async def renew_lease(self, job_id: str, worker_id: str, lease_s: float) -> bool:
        lease = timedelta(seconds=check.lease_seconds(lease_s))
        expires = to_millis(utc_now() + lease)
        return await self._update_held(job_id, worker_id, "lease_expires_at = ?", (expires,))

    async def report_progress(self, job_id: str, worker_id: str, progress_percent: int) -> bool:
        percent = check.count("progress_percent", progress_percent, maximum=100)
        return await self._update_held(job_id, worker_id, "progress_percent = ?", (percent,))

    async def complete(self, job_id: str, worker_id: str, result: TranscriptResult) -> bool:
        result = transcript_result(result)
        return await self._update_held(
            job_id,
            worker_id,
            "status = 'succeeded', progress_percent = 100, transcript_text = ?,"
            " transcript_language = ?, transcript_duration = ?, transcript_model = ?,"
            " lease_owner = NULL, lease_expires_at = NULL",
            (result.text, result.language, result.duration_s, result.model),
        )

    async def fail(self, job_id: str, worker_id: str, error: str) -> bool:
        return await self._update_held(
            job_id,
            worker_id,
            "status = 'failed', error = ?, lease_owner = NULL, lease_expires_at = NULL",
            (job_error(error),),
        )

    async def release(self, job_id: str, worker_id: str) -> bool:
        return await self._update_held(
            job_id,
            worker_id,
            "status = 'queued', progress_percent = 0, lease_owner = NULL, lease_expires_at = NULL",
            (),
        )
