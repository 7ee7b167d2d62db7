"""Job audio in MongoDB GridFS (PyMongo's async GridFS), beside the jobs themselves.

Two instances sharing one MongoDB need no shared disk: the instance that takes a job over
reads its audio from the same database. Files are named by a random key; their GridFS
metadata holds the owner and, once the job exists, the job id. The bucket is `job_audio`.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from pathlib import Path
from typing import Any

from gridfs import AsyncGridFSBucket, NoFile
from pymongo import AsyncMongoClient

from routeur_grpc.domain.job_audio import StoredAudio
from routeur_grpc.errors import NotFound
from routeur_grpc.storage.mongodb.errors import mongo_errors

BUCKET = "job_audio"
READ_SIZE = 1024 * 1024


class GridFsJobAudioStore:
    """`JobAudioStore` over one GridFS bucket; local copies go to `temporary_file()` paths
    (the upload spool's), removed when their block ends."""

    def __init__(
        self,
        uri: str,
        database: str,
        temporary_file: Callable[[], AbstractAsyncContextManager[Path]],
    ) -> None:
        with mongo_errors():
            self._client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
                uri, tz_aware=True, appname="routeur-audio", serverSelectionTimeoutMS=5000
            )
        db = self._client[database]
        self._bucket = AsyncGridFSBucket(db, bucket_name=BUCKET)
        self._files = db[f"{BUCKET}.files"]
        self._temporary_file = temporary_file

    async def put(self, owner_id: str, source: Path) -> str:
        key = uuid.uuid4().hex
        with mongo_errors():
            stream = self._bucket.open_upload_stream(key, metadata={"owner_id": owner_id})
            try:
                with source.open("rb") as file:
                    while chunk := file.read(READ_SIZE):
                        await stream.write(chunk)
            except BaseException:
                await stream.abort()
                raise
            await stream.close()
        return key

    async def attach(self, key: str, job_id: str) -> None:
        with mongo_errors():
            await self._files.update_one({"filename": key}, {"$set": {"metadata.job_id": job_id}})

    @contextlib.asynccontextmanager
    async def local_copy(self, key: str) -> AsyncIterator[Path]:
        async with self._temporary_file() as path:
            with mongo_errors():
                try:
                    stream = await self._bucket.open_download_stream_by_name(str(key))
                except NoFile:
                    raise NotFound(
                        "The job's audio is no longer available.", reason="AUDIO_GONE"
                    ) from None
                with path.open("wb") as file:
                    while chunk := await stream.readchunk():
                        file.write(chunk)
            yield path

    async def delete(self, key: str) -> None:
        with mongo_errors():
            async for document in self._files.find({"filename": str(key)}, {"_id": 1}):
                with contextlib.suppress(NoFile):
                    await self._bucket.delete(document["_id"])

    async def stored_before(self, moment: datetime) -> AsyncIterator[StoredAudio]:
        with mongo_errors():
            cursor = self._files.find({"uploadDate": {"$lt": moment}})
            async for document in cursor:
                metadata = document.get("metadata") or {}
                yield StoredAudio(
                    key=str(document["filename"]),
                    owner_id=str(metadata.get("owner_id", "")),
                    job_id=str(metadata.get("job_id", "")),
                    stored_at=document["uploadDate"],
                )

    async def close(self) -> None:
        await self._client.close()
