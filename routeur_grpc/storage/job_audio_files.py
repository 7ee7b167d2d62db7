"""Job audio as files in the data directory (the SQLite store's companion).

Each audio is one file named by a random key, moved in from the upload spool (a rename on
the same disk, not a copy), with a small JSON sidecar naming its owner and job.
"""

from __future__ import annotations

import contextlib
import json
import os
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

from routeur_grpc.domain.job_audio import StoredAudio
from routeur_grpc.errors import NotFound

_SIDECAR = ".json"


class FileJobAudioStore:
    """`JobAudioStore` over one directory."""

    def __init__(self, directory: Path) -> None:
        self._dir = directory
        directory.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        if not key or not all(c.isalnum() for c in key):
            raise NotFound("The job's audio is no longer available.", reason="AUDIO_GONE")
        return self._dir / key

    async def put(self, owner_id: str, source: Path) -> str:
        key = uuid.uuid4().hex
        path = self._dir / key
        os.replace(source, path)
        (self._dir / f"{key}{_SIDECAR}").write_text(json.dumps({"owner_id": owner_id}))
        return key

    async def attach(self, key: str, job_id: str) -> None:
        sidecar = self._path(key).with_name(f"{key}{_SIDECAR}")
        data = json.loads(sidecar.read_text())
        data["job_id"] = job_id
        sidecar.write_text(json.dumps(data))

    @contextlib.asynccontextmanager
    async def local_copy(self, key: str) -> AsyncIterator[Path]:
        path = self._path(key)
        if not path.is_file():
            raise NotFound("The job's audio is no longer available.", reason="AUDIO_GONE")
        yield path

    async def delete(self, key: str) -> None:
        path = self._path(key)
        path.unlink(missing_ok=True)
        path.with_name(f"{key}{_SIDECAR}").unlink(missing_ok=True)

    async def stored_before(self, moment: datetime) -> AsyncIterator[StoredAudio]:
        cutoff = moment.timestamp()
        for sidecar in self._dir.glob(f"*{_SIDECAR}"):
            try:
                stat = sidecar.stat()
                if stat.st_mtime >= cutoff:
                    continue
                data = json.loads(sidecar.read_text())
            except (OSError, ValueError):
                continue
            yield StoredAudio(
                key=sidecar.name.removesuffix(_SIDECAR),
                owner_id=str(data.get("owner_id", "")),
                job_id=str(data.get("job_id", "")),
                stored_at=datetime.fromtimestamp(stat.st_mtime, UTC),
            )
