"""The local speech-to-text engine: faster-whisper (CTranslate2) on a model shipped on PyPI.

It needs no key and no network, so it is the default engine. One model is loaded once and
shared; decoding runs in worker threads (CTranslate2 releases the GIL), at most
`concurrency` recordings at a time, so the event loop stays free. faster-whisper decodes
lazily, one segment at a time: each segment reports progress as it is produced, and a
cancelled transcription stops at the next segment. Recordings longer than `max_piece_s`
are cut into 16 kHz WAV pieces first (see `pieces`), so memory does not grow with length.

The model is handed to faster-whisper as bytes read from local files (see `model_files`):
given a name, it would download one, and without `tokenizer.json` it would fetch a
tokenizer from a hub.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from routeur_grpc.errors import Cancelled, FailedPrecondition, InvalidArgument
from routeur_grpc.transcription.audio_split import AudioInfo, needs_cutting, probe, wav_pieces
from routeur_grpc.transcription.engine import (
    ProgressCallback,
    TranscriptionProgress,
    TranscriptionRequest,
    TranscriptionResult,
    TranscriptSegment,
)
from routeur_grpc.transcription.model_files import ModelSource
from routeur_grpc.transcription.pieces import (
    PieceTranscript,
    run_blocking,
    transcribe_in_pieces,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class LocalWhisperConfig:
    """How the local engine loads its model and decodes (see the `transcription_local_*` settings)."""

    source: ModelSource
    name: str = "local"
    model_name: str = "local/whisper-base"
    compute_type: str = "int8"
    threads: int = 0  # 0: every core
    concurrency: int = 1
    beam_size: int = 1
    batched: bool = False
    batch_size: int = 8
    vad_filter: bool = False
    max_piece_s: float = 1200.0


@dataclass(frozen=True, slots=True)
class _Decoded:
    segments: tuple[TranscriptSegment, ...]
    language: str
    duration_s: float


class LocalWhisperEngine:
    """Speech-to-text on this machine's CPU with faster-whisper."""

    def __init__(self, config: LocalWhisperConfig) -> None:
        self._config = config
        self._executor = ThreadPoolExecutor(
            max_workers=config.concurrency, thread_name_prefix="whisper"
        )
        self._slots = asyncio.Semaphore(config.concurrency)
        self._load_lock = asyncio.Lock()
        self._model: Any = None
        self._pipeline: Any = None
        self._languages: frozenset[str] = frozenset()

    # --- TranscriptionEngine ------------------------------------------------------------------

    @property
    def name(self) -> str:
        return self._config.name

    @property
    def models(self) -> tuple[str, ...]:
        return (self._config.model_name,)

    @property
    def max_upload_bytes(self) -> int | None:
        return None  # long recordings are cut here, whatever their size

    async def start(self) -> None:
        """Load the model now (otherwise the first transcription loads it)."""
        async with self._load_lock:
            if self._model is None:
                loop = asyncio.get_running_loop()
                await loop.run_in_executor(self._executor, self._load)

    async def transcribe(
        self, request: TranscriptionRequest, on_progress: ProgressCallback | None = None
    ) -> TranscriptionResult:
        if request.model and request.model != self._config.model_name:
            raise InvalidArgument(
                f"The local engine serves the model '{self._config.model_name}', not "
                f"'{request.model}'."
            )
        await self.start()
        language = self._checked_language(request.language)
        info = await run_blocking(probe, request.audio_path)
        fmt = wav_pieces(self._config.max_piece_s)
        if not needs_cutting(info, fmt):
            decoded = await self._decode(
                request, language, request.prompt,
                lambda done: _report(on_progress, done, info.duration_s),
            )
            if on_progress is not None:
                on_progress(TranscriptionProgress(decoded.duration_s, decoded.duration_s))
            return self._result(decoded.segments, decoded.language, decoded.duration_s)
        return await self._transcribe_long(request, language, info, on_progress)

    async def aclose(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)

    # --- decoding -------------------------------------------------------------------------------

    async def _transcribe_long(
        self,
        request: TranscriptionRequest,
        language: str | None,
        info: AudioInfo,
        on_progress: ProgressCallback | None,
    ) -> TranscriptionResult:
        detected = language

        async def piece_transcript(piece: Any, prompt: str, within: Callable[[float], None]) -> PieceTranscript:
            nonlocal detected
            piece_request = TranscriptionRequest(
                audio_path=piece.path, model=request.model, language=detected,
                prompt=prompt, temperature=request.temperature,
            )
            decoded = await self._decode(piece_request, detected, prompt, within)
            detected = detected or decoded.language  # the first piece decides the language
            text = " ".join(segment.text for segment in decoded.segments)
            return PieceTranscript(text, decoded.language, decoded.segments)

        joined = await transcribe_in_pieces(
            request.audio_path, info.duration_s, wav_pieces(self._config.max_piece_s),
            request.prompt, piece_transcript, on_progress,
        )
        return self._result(joined.segments, joined.language, joined.duration_s)

    async def _decode(
        self,
        request: TranscriptionRequest,
        language: str | None,
        prompt: str,
        report: Callable[[float], None],
    ) -> _Decoded:
        """Decode one file in a worker thread, reporting each segment's end on the loop."""
        loop = asyncio.get_running_loop()
        stop = threading.Event()

        def on_segment(end_s: float) -> None:
            loop.call_soon_threadsafe(report, end_s)

        async with self._slots:
            future = loop.run_in_executor(
                self._executor,
                self._decode_blocking,
                request.audio_path,
                language,
                prompt,
                request.temperature,
                on_segment,
                stop,
            )
            try:
                return await asyncio.shield(future)
            except asyncio.CancelledError:
                stop.set()  # the thread stops at its next segment
                await asyncio.wait({future})
                raise

    def _decode_blocking(
        self,
        path: Path,
        language: str | None,
        prompt: str,
        temperature: float | None,
        on_segment: Callable[[float], None],
        stop: threading.Event,
    ) -> _Decoded:
        import av  # faster-whisper decodes with PyAV

        options: dict[str, Any] = {
            "language": language,
            "beam_size": self._config.beam_size,
            "initial_prompt": prompt or None,
            "vad_filter": self._config.vad_filter or self._config.batched,
        }
        if temperature is not None:
            options["temperature"] = temperature
        if self._config.batched:
            options["batch_size"] = self._config.batch_size
        started = time.perf_counter()
        segments: list[TranscriptSegment] = []
        try:
            pending, info = self._pipeline.transcribe(str(path), **options)
            for segment in pending:
                if stop.is_set():
                    raise Cancelled("The transcription was cancelled.")
                text = segment.text.strip()
                if text:
                    segments.append(TranscriptSegment(segment.start, segment.end, text))
                on_segment(segment.end)
        except av.error.FFmpegError as error:
            raise InvalidArgument(
                "The recording could not be decoded; it may be truncated or corrupt."
            ) from error
        elapsed = time.perf_counter() - started
        log.debug(
            "transcribed %.1f s of audio in %.1f s (%.1fx realtime)",
            info.duration, elapsed, info.duration / elapsed if elapsed else 0.0,
        )
        return _Decoded(tuple(segments), info.language, info.duration)

    # --- helpers ----------------------------------------------------------------------------

    def _load(self) -> None:
        from faster_whisper import BatchedInferencePipeline, WhisperModel

        started = time.perf_counter()
        config = self._config
        try:
            model = WhisperModel(
                str(config.source.directory),
                device="cpu",
                compute_type=config.compute_type,
                cpu_threads=config.threads or os.cpu_count() or 1,
                num_workers=config.concurrency,
                files=config.source.read_files(),
            )
        except (RuntimeError, ValueError) as error:
            raise FailedPrecondition(
                f"The local speech-to-text model ({config.source.label}) could not be loaded. "
                "Check transcription_local_model_dir and transcription_local_compute_type."
            ) from error
        self._languages = frozenset(model.supported_languages)
        self._pipeline = BatchedInferencePipeline(model) if config.batched else model
        self._model = model
        log.info(
            "local speech-to-text model %s loaded from %s in %.1f s (%s, %s)",
            config.model_name, config.source.label, time.perf_counter() - started,
            config.compute_type, "multilingual" if model.model.is_multilingual else "English only",
        )

    def _checked_language(self, language: str | None) -> str | None:
        if not language or language == "auto":
            return None if len(self._languages) > 1 else "en"
        code = language.strip().lower()
        if code not in self._languages:
            if len(self._languages) == 1:
                raise InvalidArgument(
                    f"The model '{self._config.model_name}' only transcribes English; "
                    f"'{language}' was asked. Leave the language empty or use another model."
                )
            raise InvalidArgument(
                f"'{language}' is not a language code this model knows; use an ISO-639-1 "
                "code such as 'fr' or 'en', or leave it empty to detect the language."
            )
        return code

    def _result(
        self, segments: tuple[TranscriptSegment, ...], language: str, duration_s: float
    ) -> TranscriptionResult:
        return TranscriptionResult(
            text=" ".join(segment.text for segment in segments),
            language=language,
            duration_s=duration_s,
            model=self._config.model_name,
            segments=segments,
        )


def _report(on_progress: ProgressCallback | None, done_s: float, total_s: float) -> None:
    if on_progress is not None:
        on_progress(TranscriptionProgress(min(done_s, total_s), total_s))
