"""What every remote speech-to-text engine shares: when to send a file whole, when in pieces.

A recording within the provider's limits (bytes and duration) and in a container it
accepts is sent as it is. Anything else is cut into 128 kbps MP3 pieces (see `pieces`),
sent one after the other with the sliding prompt, and joined. A subclass only sends one
file: `_send`. Costs come from a small per-minute price table, for the models whose price
is public; other models report no cost rather than a guessed one.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pycountry

from routeur_grpc.errors import FailedPrecondition, InvalidArgument
from routeur_grpc.transcription.audio_split import (
    AudioInfo,
    AudioPiece,
    mp3_pieces,
    needs_cutting,
    probe,
)
from routeur_grpc.transcription.engine import (
    ProgressCallback,
    TranscriptionProgress,
    TranscriptionRequest,
    TranscriptionResult,
)
from routeur_grpc.transcription.pieces import PieceTranscript, run_blocking, transcribe_in_pieces

#: USD per minute of audio, from the providers' public price lists.
PRICE_PER_MINUTE_USD: Mapping[str, float] = {
    "whisper-1": 0.006,
    "gpt-4o-transcribe": 0.006,
    "gpt-4o-mini-transcribe": 0.003,
    "voxtral-mini-latest": 0.001,
    "voxtral-mini-2507": 0.001,
}

#: ffprobe container names sent as they are, with the file extension providers expect.
_SENDABLE: Mapping[str, str] = {
    "mp3": "mp3",
    "wav": "wav",
    "mov,mp4,m4a,3gp,3g2,mj2": "m4a",
    "matroska,webm": "webm",
    "ogg": "ogg",
    "flac": "flac",
}


def too_large(provider: str) -> FailedPrecondition:
    """A 413 for a file Routeur sized under the configured limit: a configuration problem."""
    return FailedPrecondition(
        f"The provider '{provider}' refused a recording as too large (HTTP 413), although it "
        "was under transcription_remote_max_upload_mb: the operator must lower that setting.",
        reason="UPSTREAM_FILE_TOO_LARGE",
        metadata={"provider": provider, "upstream_status": "413"},
    )


def iso_language(reported: str | None) -> str:
    """ISO-639-1 code of a language as providers report it ("french", "fr" or "fra")."""
    if not reported:
        return ""
    value = reported.strip().lower()
    if len(value) == 2:
        return value
    try:
        language = pycountry.languages.lookup(value)
    except LookupError:
        return value
    return getattr(language, "alpha_2", value)


@dataclass(frozen=True, slots=True)
class RemoteLimits:
    max_upload_bytes: int
    max_piece_s: float


@dataclass(frozen=True, slots=True)
class SentFile:
    """One file for `_send`: where it is and the name it travels under."""

    path: Path
    filename: str


class RemoteTranscriptionEngine(abc.ABC):
    """A provider reached over HTTP through its SDK."""

    def __init__(self, name: str, models: tuple[str, ...], limits: RemoteLimits) -> None:
        if not models:
            raise ValueError(f"transcription engine {name}: no model configured")
        self._name = name
        self._models = models
        self._limits = limits

    @property
    def name(self) -> str:
        return self._name

    @property
    def models(self) -> tuple[str, ...]:
        return self._models

    @property
    def max_upload_bytes(self) -> int | None:
        return self._limits.max_upload_bytes

    @abc.abstractmethod
    async def _send(
        self, sent: SentFile, model: str, language: str | None, prompt: str,
        temperature: float | None,
    ) -> PieceTranscript:
        """Transcribe one file within the limits (raising Routeur errors)."""

    async def transcribe(
        self, request: TranscriptionRequest, on_progress: ProgressCallback | None = None
    ) -> TranscriptionResult:
        model = request.model or self._models[0]
        if model not in self._models:
            raise InvalidArgument(
                f"The engine '{self._name}' does not offer the transcription model '{model}'; "
                f"it offers: {', '.join(self._models)}."
            )
        language = None if request.language in (None, "", "auto") else request.language
        info = await run_blocking(probe, request.audio_path)
        fmt = mp3_pieces(self._limits.max_upload_bytes, self._limits.max_piece_s)
        extension = _SENDABLE.get(info.format_name)
        if extension is not None and not needs_cutting(info, fmt):
            result = await self._send(
                SentFile(request.audio_path, f"audio.{extension}"),
                model, language, request.prompt, request.temperature,
            )
            if on_progress is not None:
                on_progress(TranscriptionProgress(info.duration_s, info.duration_s))
            return self._result(result, model, info, language)

        async def send_piece(
            piece: AudioPiece, prompt: str, _within: Callable[[float], None]
        ) -> PieceTranscript:
            sent = SentFile(piece.path, f"audio-{piece.index:04d}.mp3")
            return await self._send(sent, model, language, prompt, request.temperature)

        joined = await transcribe_in_pieces(
            request.audio_path, info.duration_s, fmt, request.prompt, send_piece, on_progress
        )
        whole = PieceTranscript(joined.text, joined.language, joined.segments, joined.cost_usd)
        return self._result(whole, model, AudioInfo(joined.duration_s, "", 0), language)

    def _result(
        self, transcript: PieceTranscript, model: str, info: AudioInfo, language: str | None
    ) -> TranscriptionResult:
        price = PRICE_PER_MINUTE_USD.get(model)
        return TranscriptionResult(
            text=transcript.text.strip(),
            language=iso_language(transcript.language) or (language or ""),
            duration_s=info.duration_s,
            model=model,
            segments=transcript.segments,
            cost_usd=None if price is None else price * info.duration_s / 60.0,
        )
