"""A transcript in the response formats of OpenAI's audio API.

`json` is `{"text": ...}`; `text` the bare text; `srt` and `vtt` subtitles from the
segments; `verbose_json` the text with its language, duration and timestamped segments,
in the fields OpenAI's SDKs read. `whisper-1`, which OpenAI's clients send by habit, means
the default engine when no engine here serves it; the model that answered is always named
in the `x-routeur-model` response header. A transcript without segments (some engines give none)
is one segment covering the whole recording.
"""

from __future__ import annotations

import json

from google.api import httpbody_pb2

from routeur_grpc.domain.transcription import Transcript
from routeur_grpc.errors import InvalidArgument

RESPONSE_FORMATS = ("json", "text", "srt", "vtt", "verbose_json")
# OpenAI's model names that its clients send by habit: when no engine here serves them, the
# server's default engine answers, and the model that did is named in this header.
OPENAI_DEFAULT_MODELS = frozenset({"whisper-1"})
MODEL_HEADER = "x-routeur-model"


def check_response_format(value: str) -> str:
    fmt = (value or "json").strip().lower()
    if fmt not in RESPONSE_FORMATS:
        raise InvalidArgument(
            f"`response_format` is {value[:20]!r}: use one of {', '.join(RESPONSE_FORMATS)}.",
            reason="INVALID_ARGUMENT",
            metadata={"field": "response_format"},
        )
    return fmt


def transcription_body(transcript: Transcript, response_format: str) -> httpbody_pb2.HttpBody:
    fmt = check_response_format(response_format)
    if fmt == "json":
        return _json({"text": transcript.text})
    if fmt == "verbose_json":
        return _json(
            {
                "task": "transcribe",
                "language": transcript.language,
                "duration": transcript.duration,
                "text": transcript.text,
                "segments": [
                    {
                        "id": index,
                        "seek": 0,
                        "start": start,
                        "end": end,
                        "text": text,
                        "tokens": [],
                        "temperature": 0.0,
                        "avg_logprob": 0.0,
                        "compression_ratio": 0.0,
                        "no_speech_prob": 0.0,
                    }
                    for index, (start, end, text) in enumerate(_segments(transcript))
                ],
            }
        )
    if fmt == "text":
        return _text(transcript.text + "\n", "text/plain; charset=utf-8")
    if fmt == "srt":
        cues = [
            f"{index}\n{_clock(start, ',')} --> {_clock(end, ',')}\n{text.strip()}\n"
            for index, (start, end, text) in enumerate(_segments(transcript), start=1)
        ]
        return _text("\n".join(cues), "application/x-subrip; charset=utf-8")
    cues = [
        f"{_clock(start, '.')} --> {_clock(end, '.')}\n{text.strip()}\n"
        for start, end, text in _segments(transcript)
    ]
    return _text("WEBVTT\n\n" + "\n".join(cues), "text/vtt; charset=utf-8")


def _segments(transcript: Transcript) -> tuple[tuple[float, float, str], ...]:
    return transcript.segments or ((0.0, transcript.duration, transcript.text),)


def _clock(seconds: float, separator: str) -> str:
    millis = max(0, round(seconds * 1000))
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


def _json(value: object) -> httpbody_pb2.HttpBody:
    return httpbody_pb2.HttpBody(
        content_type="application/json", data=json.dumps(value, ensure_ascii=False).encode()
    )


def _text(text: str, content_type: str) -> httpbody_pb2.HttpBody:
    return httpbody_pb2.HttpBody(content_type=content_type, data=text.encode())
