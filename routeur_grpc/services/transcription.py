"""Synchronous transcription: an upload in, a transcript (and, for meetings, a report) out.

One request goes: a slot from admission control (refused at once when the instance or the
caller is at its limit), the upload spooled to disk under the size cap, its format
recognised from the content, the engine serving the requested model, the transcript, and a
usage record. The spooled file is removed whatever happens.
"""

from __future__ import annotations

import asyncio
import os
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

from routeur_grpc.domain.caller import Caller
from routeur_grpc.domain.transcription import (
    SUPPORTED_FORMATS,
    AudioInfo,
    MeetingTranscript,
    SupportedFormats,
    Transcript,
    UploadOptions,
)
from routeur_grpc.errors import InvalidArgument
from routeur_grpc.media.probe import probe_audio
from routeur_grpc.media.spool import MEGABYTE, AudioSpool
from routeur_grpc.services.meeting_report import MeetingReporter
from routeur_grpc.services.transcription_admission import TranscriptionAdmission
from routeur_grpc.services.usage import UsageRecorder
from routeur_grpc.transcription.engine import (
    ProgressCallback,
    TranscriptionRequest,
    TranscriptionResult,
)
from routeur_grpc.transcription.registry import TranscriptionEngines

_LANGUAGE = re.compile(r"[a-z]{2}")


class AudioUpload(Protocol):
    """An upload as the service reads it: its bytes, then its options."""

    def chunks(self) -> AsyncIterator[bytes]: ...

    def options(self) -> UploadOptions:
        """Final once `chunks()` is exhausted (form fields may follow the file)."""
        ...


@dataclass(frozen=True, slots=True)
class TranscriptionLimits:
    max_meeting_duration_s: int = 4 * 3600
    usd_to_currency: float = 1.0  # engines price in USD


class TranscriptionService:
    """Transcribes uploads with the configured engines."""

    def __init__(
        self,
        engines: TranscriptionEngines,
        spool: AudioSpool,
        admission: TranscriptionAdmission,
        usage: UsageRecorder,
        reporter: MeetingReporter,
        limits: TranscriptionLimits,
    ) -> None:
        self.engines = engines
        self.spool = spool
        self.admission = admission
        self._usage = usage
        self.reporter = reporter
        self.limits = limits

    async def transcribe(
        self, upload: AudioUpload, caller: Caller, *, default_aliases: frozenset[str] = frozenset()
    ) -> Transcript:
        """`default_aliases`: model names that mean "the default" when no engine serves them
        (OpenAI's clients send `whisper-1` whatever the server); the transcript names the
        model that really answered."""
        self.engines.default_engine()  # refuse before the upload when nothing can answer
        async with self.admission.now(caller), self.spool.receive(upload.chunks()) as audio:
            options = check_options(upload.options())
            if options.model in default_aliases and not self.engines.serves(options.model):
                options = replace(options, model="")
            info = await probe_audio(audio.path, declared_format(options))
            return await self.run(audio.path, info, options, caller)

    async def transcribe_meeting(self, upload: AudioUpload, caller: Caller) -> MeetingTranscript:
        self.engines.default_engine(meeting=True)
        async with self.admission.now(caller), self.spool.receive(upload.chunks()) as audio:
            options = check_options(upload.options())
            info = await probe_audio(audio.path, declared_format(options))
            self.check_meeting_duration(info, options)
            transcript = await self.run(audio.path, info, options, caller, meeting=True)
        report = await self.reporter.report(transcript.text, caller)
        return MeetingTranscript(transcript, report, options.project_id)

    def check_meeting_duration(self, info: AudioInfo, options: UploadOptions) -> None:
        limit = self.limits.max_meeting_duration_s
        if options.max_duration_seconds:
            limit = min(limit, options.max_duration_seconds)
        if info.duration_s > limit:
            raise InvalidArgument(
                f"The recording lasts {info.duration_s:.0f} s, longer than the {limit} s "
                "allowed (`max_duration_seconds`, or the server's limit): cut it or raise "
                "`max_duration_seconds`.",
                reason="RECORDING_TOO_LONG",
                metadata={"max_duration_seconds": str(limit)},
            )

    async def run(
        self,
        path: Path,
        info: AudioInfo,
        options: UploadOptions,
        caller: Caller,
        *,
        meeting: bool = False,
        on_progress: ProgressCallback | None = None,
    ) -> Transcript:
        """Transcribes a recognised file on disk and records the usage."""
        engine, model = self.engines.resolve(options.model, meeting=meeting)
        # Engines that send the file on (OpenAI's API) tell the format from the name.
        async with self.spool.temporary_file(f".{info.format}") as named:
            await asyncio.to_thread(os.link, path, named)
            started = time.monotonic()
            result: TranscriptionResult = await engine.transcribe(
                TranscriptionRequest(
                    audio_path=named,
                    model=model,
                    language=options.language or None,
                    prompt=options.prompt,
                    temperature=options.temperature,
                ),
                on_progress,
            )
        cost = (result.cost_usd or 0.0) * self.limits.usd_to_currency
        duration = result.duration_s or info.duration_s
        self._usage.record_transcription_soon(
            caller,
            engine.name,
            result.model or model,
            cost,
            time.monotonic() - started,
            audio_seconds=duration,
        )
        return Transcript(
            text=result.text,
            language=result.language,
            duration=duration,
            model=result.model or model,
            engine=engine.name,
            segments=tuple((s.start_s, s.end_s, s.text) for s in result.segments),
        )

    def supported_formats(self) -> SupportedFormats:
        _, model = self.engines.resolve("")
        limit_mb = self.spool.max_bytes // MEGABYTE
        return SupportedFormats(
            supported_formats=SUPPORTED_FORMATS,
            max_file_size_mb=limit_mb,
            model=model,
            models=tuple(self.engines.model_names()),
        )


def check_options(options: UploadOptions) -> UploadOptions:
    """The options with the language normalised; InvalidArgument for a bad value."""
    language = options.language.strip().lower()
    if language in ("", "auto"):
        language = ""
    elif not _LANGUAGE.fullmatch(language):
        raise InvalidArgument(
            f"`language` is {options.language[:20]!r}: use an ISO-639-1 code such as `fr` or "
            "`en`, or leave it empty (or `auto`) to detect it.",
            reason="INVALID_LANGUAGE",
        )
    fmt = options.format.strip().lower().lstrip(".")
    if fmt and fmt not in SUPPORTED_FORMATS:
        raise InvalidArgument(
            f"`format` is {options.format[:20]!r}: use one of {', '.join(SUPPORTED_FORMATS)}, "
            "or leave it empty to recognise it from the content.",
            reason="UNSUPPORTED_AUDIO_FORMAT",
        )
    if options.temperature is not None and not 0.0 <= options.temperature <= 1.0:
        raise InvalidArgument("`temperature` must be between 0 and 1.", reason="INVALID_ARGUMENT")
    if options.max_duration_seconds < 0:
        raise InvalidArgument(
            "`max_duration_seconds` must be 0 (the server's limit) or more.",
            reason="INVALID_ARGUMENT",
        )
    return replace(options, language=language, format=fmt)


def declared_format(options: UploadOptions) -> str:
    """The format the caller gave, or the one its file name suggests."""
    return options.format or Path(options.file_name).suffix.lstrip(".").lower()
