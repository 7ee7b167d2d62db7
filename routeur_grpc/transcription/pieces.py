"""Transcribing a long recording piece by piece, in order, as one transcript.

Each piece is cut (see `audio_split`), transcribed, and removed before the next is cut.
Whisper reads a prompt as "the text just before": each piece after the first gets the
end of the previous piece's text (after the caller's own prompt, if any), so that names,
spelling and sentence flow carry over the cut. Segment timestamps are shifted by the
piece's place in the recording. Progress is reported after every piece (and within a piece
when the engine reports it). The temporary directory is removed in every case: success,
error or cancellation.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from routeur_grpc.transcription.audio_split import AudioCutter, AudioPiece, PieceFormat
from routeur_grpc.transcription.engine import (
    ProgressCallback,
    TranscriptionProgress,
    TranscriptSegment,
)

#: Characters of the previous piece's text carried into the next piece's prompt. Whisper
#: keeps the last 224 tokens of a prompt; 200 characters stay well inside that.
SLIDING_PROMPT_CHARS = 200

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class PieceTranscript:
    """What an engine made of one piece (timestamps relative to the piece)."""

    text: str
    language: str = ""
    segments: tuple[TranscriptSegment, ...] = ()
    cost_usd: float | None = None


@dataclass(frozen=True, slots=True)
class JoinedTranscript:
    text: str
    language: str
    duration_s: float
    segments: tuple[TranscriptSegment, ...]
    cost_usd: float | None
    pieces: int


#: Transcribes one piece: (the piece, its prompt, progress within the piece in seconds).
PieceTranscriber = Callable[[AudioPiece, str, Callable[[float], None]], Awaitable[PieceTranscript]]


def sliding_prompt(caller_prompt: str, previous_text: str) -> str:
    """The caller's prompt followed by the end of the previous piece's text (cut at a word)."""
    tail = previous_text.strip()
    if len(tail) > SLIDING_PROMPT_CHARS:
        tail = tail[-SLIDING_PROMPT_CHARS:]
        tail = tail.split(" ", 1)[1] if " " in tail else tail
    return " ".join(part for part in (caller_prompt.strip(), tail) if part)


async def run_blocking(function: Callable[..., T], *args: object) -> T:
    """Run `function` in a worker thread; if cancelled, let it finish before going on.

    Waiting keeps a thread from writing into a temporary directory that is being removed.
    """
    future = asyncio.ensure_future(asyncio.to_thread(function, *args))
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        await asyncio.wait({future})
        raise


async def transcribe_in_pieces(
    source: Path,
    total_s: float,
    fmt: PieceFormat,
    caller_prompt: str,
    transcribe_piece: PieceTranscriber,
    on_progress: ProgressCallback | None = None,
) -> JoinedTranscript:
    """Cut `source` into pieces of `fmt`, transcribe them in order, and join the results."""
    report = _ForwardOnly(on_progress, total_s)
    texts: list[str] = []
    segments: list[TranscriptSegment] = []
    costs: list[float | None] = []
    language = ""
    with tempfile.TemporaryDirectory(prefix="routeur-pieces-", ignore_cleanup_errors=True) as tmp:
        cutter = AudioCutter(source, total_s, fmt, Path(tmp))
        start = 0.0
        index = 0
        while not cutter.done(start):
            piece = await run_blocking(cutter.cut, index, start)
            if piece.duration_s <= 0:
                break

            def within(done_s: float, piece: AudioPiece = piece) -> None:
                report(piece.start_s + min(done_s, piece.duration_s))

            try:
                prompt = sliding_prompt(caller_prompt, texts[-1] if texts else "")
                result = await transcribe_piece(piece, prompt, within)
            finally:
                piece.path.unlink(missing_ok=True)
            texts.append(result.text.strip())
            costs.append(result.cost_usd)
            language = language or result.language
            segments.extend(
                TranscriptSegment(s.start_s + piece.start_s, s.end_s + piece.start_s, s.text)
                for s in result.segments
            )
            start = piece.start_s + piece.duration_s
            index += 1
            report(start)
    return JoinedTranscript(
        text=" ".join(text for text in texts if text),
        language=language,
        duration_s=max(start, total_s) if index else total_s,
        segments=tuple(segments),
        cost_usd=None if any(cost is None for cost in costs) else sum(c or 0.0 for c in costs),
        pieces=index,
    )


class _ForwardOnly:
    """Reports progress that never moves back nor past the total (durations are rounded)."""

    def __init__(self, on_progress: ProgressCallback | None, total_s: float) -> None:
        self._on_progress = on_progress
        self._total_s = total_s
        self._done_s = 0.0

    def __call__(self, done_s: float) -> None:
        done_s = min(done_s, self._total_s)
        if self._on_progress is None or done_s < self._done_s:
            return
        self._done_s = done_s
        self._on_progress(TranscriptionProgress(done_s, self._total_s))
