"""Fake speech-to-text upstreams: OpenAI's and Mistral's `POST /v1/audio/transcriptions`.

Both take a multipart/form-data upload (`file`, `model`, and `language`, `prompt`,
`response_format`, `temperature`, `timestamp_granularities[]` as each protocol has them)
and answer JSON shaped as the provider documents it: OpenAI's `json` (`{"text"}`) or
`verbose_json` (language as a name, duration, segments); Mistral's text, ISO language,
segments and usage. Each upload is recorded (fields, file name, bytes) so that tests can
check what arrived and in which order. What a file "says" is decided by `transcriber`, a
function of the upload (default: the fake's `reply_text`): tests use it to recognise
which piece of a recording they received.
"""

from __future__ import annotations

import email.parser
import email.policy
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .http_server import RecordedRequest, Reply
from .mistral_fake import FakeMistral
from .openai_fake import FakeOpenAI


@dataclass(frozen=True)
class Upload:
    """One transcription request as the fake received it."""

    fields: dict[str, list[str]]
    filename: str
    content_type: str
    audio: bytes
    index: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def field(self, name: str) -> str | None:
        values = self.fields.get(name)
        return values[0] if values else None


def parse_multipart(request: RecordedRequest) -> tuple[dict[str, list[str]], str, str, bytes]:
    """The form fields and the uploaded file of a multipart/form-data request."""
    head = f"Content-Type: {request.headers['content-type']}\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + request.body)
    fields: dict[str, list[str]] = {}
    filename, content_type, audio = "", "", b""
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True) or b""
        if part.get_filename() is not None:
            filename = part.get_filename() or ""
            content_type = part.get_content_type()
            audio = payload
        elif name:
            fields.setdefault(str(name), []).append(payload.decode())
    return fields, filename, content_type, audio


def audio_duration(audio: bytes) -> float:
    """Duration in seconds of an encoded recording, decoded by ffmpeg from stdin (a pipe has
    no container duration to read)."""
    completed = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", "pipe:0", "-f", "s16le", "-ac", "1", "-ar", "8000",
         "pipe:1"],
        input=audio, capture_output=True, check=False,
    )
    return len(completed.stdout) / 16000


class _AudioUploads:
    """What both fakes share: recording uploads and deciding what they say."""

    reply_text: str
    uploads: list[Upload]
    transcriber: Callable[[Upload], str] | None

    def _upload(self, request: RecordedRequest) -> Upload:
        fields, filename, content_type, audio = parse_multipart(request)
        upload = Upload(fields, filename, content_type, audio, index=len(self.uploads))
        self.uploads.append(upload)
        return upload

    def _text_of(self, upload: Upload) -> str:
        return self.transcriber(upload) if self.transcriber is not None else self.reply_text


class FakeOpenAIAudio(_AudioUploads, FakeOpenAI):
    """OpenAI (or a compatible server) with chat and audio transcription."""

    #: verbose_json reports the language by name, as OpenAI's API does.
    language_name = "english"

    def __init__(self) -> None:
        super().__init__()
        self.uploads = []
        self.transcriber = None

    def reset(self) -> None:
        super().reset()
        self.uploads = []
        self.transcriber = None

    def route(self, request: RecordedRequest) -> tuple[Reply, bool]:
        if request.method == "POST" and request.path.endswith("/audio/transcriptions"):
            return self._transcription(request), True
        return super().route(request)

    def _transcription(self, request: RecordedRequest) -> Reply:
        upload = self._upload(request)
        text = self._text_of(upload)
        if upload.field("response_format") != "verbose_json":
            return Reply(json_body={"text": text, "usage": {"type": "duration", "seconds": 1}})
        duration = audio_duration(upload.audio)
        return Reply(
            json_body={
                "task": "transcribe",
                "language": self.language_name,
                "duration": duration,
                "text": text,
                "segments": [
                    {
                        "id": 0, "seek": 0, "start": 0.0, "end": duration, "text": text,
                        "tokens": [1], "temperature": 0.0, "avg_logprob": -0.1,
                        "compression_ratio": 1.0, "no_speech_prob": 0.0,
                    }
                ],
            }
        )


class FakeMistralAudio(_AudioUploads, FakeMistral):
    """Mistral with chat and audio transcription."""

    def __init__(self) -> None:
        super().__init__()
        self.uploads = []
        self.transcriber = None

    def reset(self) -> None:
        super().reset()
        self.uploads = []
        self.transcriber = None

    def route(self, request: RecordedRequest) -> tuple[Reply, bool]:
        if request.method == "POST" and request.path == "/v1/audio/transcriptions":
            return self._transcription(request), True
        return super().route(request)

    def _transcription(self, request: RecordedRequest) -> Reply:
        upload = self._upload(request)
        text = self._text_of(upload)
        duration = audio_duration(upload.audio)
        return Reply(
            json_body={
                "model": upload.field("model"),
                "text": text,
                "language": upload.field("language") or "en",
                "segments": [
                    {"type": "transcription_segment", "text": text, "start": 0.0, "end": duration}
                ],
                "usage": {
                    "prompt_audio_seconds": round(duration),
                    "prompt_tokens": 4, "completion_tokens": 10, "total_tokens": 14,
                },
            }
        )
