"""Transcription jobs and their leases, in MongoDB.

Every state change is one `find_one_and_update` or `update_one` whose filter states the
condition (queued, or running with an expired lease; or leased to this worker), so it is
atomic on the server: two claimers never get the same job, and a worker that lost its
lease cannot write over its successor.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from pymongo import ASCENDING, DESCENDING, ReturnDocument

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
from routeur_grpc.storage.ids import IdGenerator, check_id, is_valid_id, not_found, utc_now
from routeur_grpc.storage.mongodb.database import Document, MongoDatabase
from routeur_grpc.storage.mongodb.errors import mongo_errors
from routeur_grpc.storage.paging import build_page, id_page

_NO_LEASE = {"lease_owner": None, "lease_expires_at": None}


def _job(doc: Document) -> TranscriptionJob:
    return TranscriptionJob(
        job_id=doc["_id"],
        owner_id=doc["owner_id"],
        job_type=doc["job_type"],
        status=doc["status"],
        progress_percent=doc["progress_percent"],
        options=json.loads(doc["options_json"]),
        audio_path=doc["audio_path"],
        transcript_text=doc["transcript_text"],
        transcript_language=doc["transcript_language"],
        transcript_duration=doc["transcript_duration"],
        transcript_model=doc["transcript_model"],
        error=doc["error"],
        create_time=doc["create_time"],
        update_time=doc["update_time"],
        lease_owner=doc["lease_owner"],
        lease_expires_at=doc["lease_expires_at"],
        attempts=doc["attempts"],
    )


class MongoJobRepository:
    """`JobRepository` over the `jobs` collection."""

    def __init__(self, db: MongoDatabase, ids: IdGenerator) -> None:
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
        _, options_json = check.json_document(
            "options", {} if options is None else options, max_bytes=MAX_JSON_BYTES
        )
        now = utc_now()
        doc: Document = {
            "_id": self._ids.new_id(now),
            "owner_id": owner_id,
            "job_type": job_type,
            "status": "queued",
            "progress_percent": 0,
            "options_json": options_json,
            "audio_path": audio_path,
            "transcript_text": "",
            "transcript_language": "",
            "transcript_duration": None,
            "transcript_model": "",
            "error": "",
            "create_time": now,
            "update_time": now,
            **_NO_LEASE,
            "attempts": 0,
        }
        with mongo_errors():
            await self._db.jobs.insert_one(doc)
        return _job(doc)

    async def get(self, owner_id: str, job_id: str) -> TranscriptionJob:
        owner_id = check.owner_id(owner_id)
        job_id = check_id("job", job_id)
        with mongo_errors():
            doc = await self._db.jobs.find_one({"_id": job_id, "owner_id": owner_id})
        if doc is None:
            raise not_found("job", job_id)
        return _job(doc)

    async def list(
        self, owner_id: str, *, page_size: int = 0, page_token: str = ""
    ) -> Page[TranscriptionJob]:
        owner_id = check.owner_id(owner_id)
        query = id_page(("jobs.list", owner_id), page_size, page_token)
        filter_: Document = {"owner_id": owner_id}
        if query.after is not None:
            filter_["_id"] = {"$lt": query.after}
        with mongo_errors():
            cursor = self._db.jobs.find(filter_).sort("_id", DESCENDING).limit(query.fetch)
            docs = await cursor.to_list()
        return build_page(query, [_job(d) for d in docs], lambda j: j.job_id)

    async def cancel(self, owner_id: str, job_id: str) -> TranscriptionJob:
        owner_id = check.owner_id(owner_id)
        job_id = check_id("job", job_id)
        with mongo_errors():
            doc = await self._db.jobs.find_one_and_update(
                {"_id": job_id, "owner_id": owner_id, "status": {"$in": ["queued", "running"]}},
                {"$set": {"status": "cancelled", "update_time": utc_now(), **_NO_LEASE}},
                return_document=ReturnDocument.AFTER,
            )
            if doc is None:
                doc = await self._db.jobs.find_one({"_id": job_id, "owner_id": owner_id})
        if doc is None:
            raise not_found("job", job_id)
        job = _job(doc)
        if job.status != "cancelled":
            raise FailedPrecondition(
                f"job {job_id} has already {job.status}: it cannot be cancelled."
            )
        return job

    async def claim_next(self, worker_id: str, lease_s: float) -> TranscriptionJob | None:
        worker_id = check.worker_id(worker_id)
        lease = timedelta(seconds=check.lease_seconds(lease_s))
        now = utc_now()
        with mongo_errors():
            doc = await self._db.jobs.find_one_and_update(
                {
                    "$or": [
                        {"status": "queued"},
                        {"status": "running", "lease_expires_at": {"$lt": now}},
                    ]
                },
                {
                    "$set": {
                        "status": "running",
                        "lease_owner": worker_id,
                        "lease_expires_at": now + lease,
                        "progress_percent": 0,
                        "update_time": now,
                    },
                    "$inc": {"attempts": 1},
                },
                sort=[("_id", ASCENDING)],
                return_document=ReturnDocument.AFTER,
            )
        return None if doc is None else _job(doc)

    async def _update_held(self, job_id: str, worker_id: str, changes: Document) -> bool:
        worker_id = check.worker_id(worker_id)
        if not is_valid_id(job_id):
            return False
        with mongo_errors():
            result = await self._db.jobs.update_one(
                {"_id": job_id, "lease_owner": worker_id, "status": "running"},
                {"$set": {**changes, "update_time": utc_now()}},
            )
        return result.matched_count == 1

    async def renew_lease(self, job_id: str, worker_id: str, lease_s: float) -> bool:
        lease = timedelta(seconds=check.lease_seconds(lease_s))
        return await self._update_held(job_id, worker_id, {"lease_expires_at": utc_now() + lease})

    async def report_progress(self, job_id: str, worker_id: str, progress_percent: int) -> bool:
        percent = check.count("progress_percent", progress_percent, maximum=100)
        return await self._update_held(job_id, worker_id, {"progress_percent": percent})

    async def complete(self, job_id: str, worker_id: str, result: TranscriptResult) -> bool:
        result = transcript_result(result)
        changes = {
            "status": "succeeded",
            "progress_percent": 100,
            "transcript_text": result.text,
            "transcript_language": result.language,
            "transcript_duration": result.duration_s,
            "transcript_model": result.model,
            **_NO_LEASE,
        }
        return await self._update_held(job_id, worker_id, changes)

    async def fail(self, job_id: str, worker_id: str, error: str) -> bool:
        changes = {"status": "failed", "error": job_error(error), **_NO_LEASE}
        return await self._update_held(job_id, worker_id, changes)

    async def release(self, job_id: str, worker_id: str) -> bool:
        changes = {"status": "queued", "progress_percent": 0, **_NO_LEASE}
        return await self._update_held(job_id, worker_id, changes)
