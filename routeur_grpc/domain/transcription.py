"""Transcription values the service exchanges with its callers, free of protobuf.

The audio itself never lives in these values: it is spooled to a file while it arrives
(`routeur_grpc.media.spool`) and only its path travels. `UploadOptions` is what came with
the file (the first gRPC message, or the fields of a `multipart/form-data` body, which may
follow the file part); `MeetingReport` is the chat model's structured reading of a meeting.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

# The formats of OpenAI's audio API, which the CAPL Routeur IA API also lists.
SUPPORTED_FORMATS: tuple[str, ...] = ("mp3", "mp4", "mpeg", "mpga", "m4a", "wav", "webm")
LANGUAGES_NOTE = "Auto-detection or specify ISO-639-1 code"

JOB_KINDS: dict[str, str] = {
    "audio": "transcription_audio",
    "meeting": "transcription_meeting",
}


@dataclass(frozen=True, slots=True)
class UploadOptions:
    """What the caller said about the file and how to transcribe it."""

    file_name: str = ""
    format: str = ""  # one of SUPPORTED_FORMATS, or "" to recognise it from the content
    language: str = ""  # ISO-639-1, or "" / "auto" to detect it
    prompt: str = ""
    model: str = ""
    temperature: float | None = None
    project_id: str = ""  # meetings
    max_duration_seconds: int = 0  # meetings; 0: the server's limit
    kind: str = ""  # jobs: "audio" (default) or "meeting"


@dataclass(frozen=True, slots=True)
class SpooledAudio:
    """An upload that has fully arrived, on disk (removed by whoever spooled it)."""

    path: Path
    size_bytes: int


@dataclass(frozen=True, slots=True)
class AudioInfo:
    """What ffprobe found in a file."""

    format: str  # one of SUPPORTED_FORMATS
    duration_s: float


@dataclass(frozen=True, slots=True)
class ActionItem:
    description: str
    owner: str = ""  # who does it; "" when the meeting did not say
    due: str = ""  # as said in the meeting ("vendredi", "2026-03-01"); "" when not said


@dataclass(frozen=True, slots=True)
class MeetingReport:
    """A meeting's summary, decisions and action items, read from its transcript."""

    summary: str
    decisions: tuple[str, ...] = ()
    action_items: tuple[ActionItem, ...] = ()
    model: str = ""  # the chat model that wrote it

    def render(self) -> str:
        """The report as plain text, for clients that only show `text`."""
        lines = [self.summary.strip()]
        if self.decisions:
            lines += ["", "Decisions:", *(f"- {decision}" for decision in self.decisions)]
        if self.action_items:
            lines += ["", "Action items:"]
            for item in self.action_items:
                who = f" ({item.owner})" if item.owner else ""
                due = f" — {item.due}" if item.due else ""
                lines.append(f"- {item.description}{who}{due}")
        return "\n".join(lines).strip()


@dataclass(frozen=True, slots=True)
class Transcript:
    """A finished transcription, in the JSON keys of the CAPL Routeur IA API."""

    text: str
    language: str
    duration: float
    model: str
    engine: str = ""
    segments: tuple[tuple[float, float, str], ...] = ()  # (start_s, end_s, text)


@dataclass(frozen=True, slots=True)
class MeetingTranscript:
    transcript: Transcript
    report: MeetingReport
    project_id: str = ""

    @property
    def text(self) -> str:
        """The report, then the transcript: one text for clients that show only `text`."""
        return meeting_text(self.report, self.transcript.text)


def meeting_text(report: MeetingReport, transcript: str) -> str:
    return f"{report.render()}\n\n---\n\n{transcript}"


@dataclass(frozen=True, slots=True)
class SupportedFormats:
    supported_formats: tuple[str, ...]
    max_file_size_mb: int
    model: str
    languages: str = LANGUAGES_NOTE
    models: tuple[str, ...] = field(default_factory=tuple)
