"""Where the audio of a transcription job waits for the worker that will transcribe it.

A job may be run by any instance sharing the store, including one that starts after the
instance that received the upload has died; so the audio lives beside the store: files in
the data directory for SQLite, GridFS for MongoDB (two instances sharing one MongoDB need
no shared disk). Each stored audio knows its owner and, once the job exists, its job id,
so that the audio of finished jobs can be removed after the retention period.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol


@dataclass(frozen=True, slots=True)
class StoredAudio:
    key: str
    owner_id: str
    job_id: str  # "" until the job is created
    stored_at: datetime


class JobAudioStore(Protocol):
    async def put(self, owner_id: str, source: Path) -> str:
        """Keeps the file at `source` (which may be moved away) and returns its key."""
        ...

    async def attach(self, key: str, job_id: str) -> None:
        """Records which job the audio belongs to."""
        ...

    def local_copy(self, key: str) -> AbstractAsyncContextManager[Path]:
        """A path to read the audio from for the length of the block. NotFound if gone."""
        ...

    async def delete(self, key: str) -> None:
        """Removes the audio (nothing if it is gone already)."""
        ...

    def stored_before(self, moment: datetime) -> AsyncIterator[StoredAudio]:
        """Every audio stored before `moment`."""
        ...
