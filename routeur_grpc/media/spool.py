"""Uploads spooled to disk while they arrive, under a size cap, and always removed.

An upload can be hundreds of megabytes: it is written chunk by chunk to a file in the data
directory, so memory stays flat whatever its size. The cap is checked on every chunk, so
an oversized upload is refused as soon as it passes the limit, not after it has all
arrived. The file is removed when the `receive` block ends, however it ends: success, an
error, the client going away (the handler's task is cancelled) or the server shutting
down (the same cancellation, and `remove_all` at the end of the shutdown for calls not
yet unwound). A process killed outright cannot clean up: its files carry
its pid, and the next start removes the files of processes that no longer exist.
"""

from __future__ import annotations

import contextlib
import logging
import os
import uuid
from collections.abc import AsyncIterable, AsyncIterator
from pathlib import Path

from routeur_grpc.domain.transcription import SpooledAudio
from routeur_grpc.errors import InvalidArgument, ResourceExhausted

log = logging.getLogger(__name__)

_PREFIX = "upload-"
MEGABYTE = 1024 * 1024


class AudioSpool:
    """Receives uploads into files of one directory, never more than `max_bytes` each."""

    def __init__(self, directory: Path, max_bytes: int) -> None:
        self.directory = directory
        self.max_bytes = max_bytes
        self._active: set[Path] = set()

    def prepare(self) -> None:
        """Creates the directory and removes what dead processes left behind."""
        self.directory.mkdir(parents=True, exist_ok=True)
        removed = 0
        for path in self.directory.glob(f"{_PREFIX}*"):
            pid = path.name.removeprefix(_PREFIX).partition("-")[0]
            if pid.isdigit() and not _alive(int(pid)):
                path.unlink(missing_ok=True)
                removed += 1
        if removed:
            log.info("removed uploads left by stopped processes", extra={"files": removed})

    def new_path(self, suffix: str = "") -> Path:
        """A fresh file name in the spool, marked with this process's pid."""
        return self.directory / f"{_PREFIX}{os.getpid()}-{uuid.uuid4().hex}{suffix}"

    @contextlib.asynccontextmanager
    async def temporary_file(self, suffix: str = "") -> AsyncIterator[Path]:
        """A path in the spool that is removed when the block ends."""
        path = self.new_path(suffix)
        self._active.add(path)
        try:
            yield path
        finally:
            path.unlink(missing_ok=True)
            self._active.discard(path)

    def remove_all(self) -> None:
        """Removes every file still in use (at shutdown: the calls using them were
        cancelled, but may not have run their own cleanup yet)."""
        for path in list(self._active):
            path.unlink(missing_ok=True)

    @contextlib.asynccontextmanager
    async def receive(self, chunks: AsyncIterable[bytes]) -> AsyncIterator[SpooledAudio]:
        """Writes every chunk to a new file; the file is gone once the block ends.

        ResourceExhausted as soon as the upload passes `max_bytes` (the partial file is
        removed at once); InvalidArgument for an empty upload.
        """
        async with self.temporary_file() as path:
            size = 0
            with path.open("xb") as file:
                async for chunk in chunks:
                    size += len(chunk)
                    if size > self.max_bytes:
                        raise ResourceExhausted(
                            f"The file is larger than the {self.max_bytes // MEGABYTE} MB this "
                            "server accepts: split or compress it (e.g. MP3 at 64 kbps).",
                            reason="UPLOAD_TOO_LARGE",
                            metadata={"max_file_size_mb": str(self.max_bytes // MEGABYTE)},
                        )
                    file.write(chunk)
            if size == 0:
                raise InvalidArgument(
                    "The upload holds no audio: send the file's bytes (gRPC: in `audio.data` "
                    "after the first message; REST: as the body or the `file` form field).",
                    reason="EMPTY_UPLOAD",
                )
            yield SpooledAudio(path=path, size_bytes=size)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
