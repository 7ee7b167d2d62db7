"""The interface every speech-to-text engine implements, and the values it exchanges.

An engine turns one audio file on disk into text. It is told the language when the caller
knows it (ISO-639-1, or None to detect), a prompt to steer spelling and style, and the
model to use. Long work reports progress through `on_progress` so jobs can show it.
Engines raise the errors of `routeur_grpc.errors` (an upstream's fault is `Unavailable`
or `ResourceExhausted`, never the caller's `InvalidArgument`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol


@dataclass(frozen=True, slots=True)
class TranscriptSegment:
    """A stretch of speech with its place in the recording, in seconds."""

    start_s: float
    end_s: float
    text: str


@dataclass(frozen=True, slots=True)
class TranscriptionRequest:
    audio_path: Path
    model: str = ""  # empty: the engine's default model
    language: str | None = None  # ISO-639-1; None detects it
    prompt: str = ""
    temperature: float | None = None


@dataclass(frozen=True, slots=True)
class TranscriptionProgress:
    """How much of the recording has been transcribed so far."""

    done_s: float
    total_s: float

    @property
    def percent(self) -> float:
        return 100.0 if self.total_s <= 0 else min(100.0, 100.0 * self.done_s / self.total_s)


@dataclass(frozen=True, slots=True)
class TranscriptionResult:
    text: str
    language: str
    duration_s: float
    model: str
    segments: tuple[TranscriptSegment, ...] = ()
    cost_usd: float | None = None  # None when the engine is not priced (the local one)


ProgressCallback = Callable[[TranscriptionProgress], None]


class TranscriptionEngine(Protocol):
    """One configured speech-to-text engine (local or remote)."""

    @property
    def name(self) -> str:
        """The engine's configured name, e.g. `local` or `openai`."""

    @property
    def models(self) -> tuple[str, ...]:
        """Models this engine answers for; the first is its default."""

    @property
    def max_upload_bytes(self) -> int | None:
        """The largest file it accepts in one piece (None: no limit; larger ones are split)."""

    async def transcribe(
        self, request: TranscriptionRequest, on_progress: ProgressCallback | None = None
    ) -> TranscriptionResult: ...

    async def aclose(self) -> None: ...
