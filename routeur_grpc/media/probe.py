"""Recognising an audio file from its content, with ffprobe (Debian's `ffmpeg` package).

A file name says little: an upload called `audio.mp3` may be a WAV, a PDF or half an MP3.
ffprobe reads the container and its streams, so the answer is what the bytes are. Anything
ffprobe cannot read, or that has no audio stream, or whose container is not one of the
supported formats, is the caller's mistake (`InvalidArgument`, saying which).
"""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path
from typing import Any

from routeur_grpc.domain.transcription import SUPPORTED_FORMATS, AudioInfo
from routeur_grpc.errors import InvalidArgument, Unavailable

PROBE_TIMEOUT_S = 30.0

# ffprobe's demuxer names → our format names. mp4 and m4a share one demuxer (told apart by
# the declared format or the brand); mpga is MPEG audio, i.e. mp3.
_CONTAINERS: dict[str, str] = {
    "mp3": "mp3",
    "wav": "wav",
    "mov,mp4,m4a,3gp,3g2,mj2": "mp4",
    "matroska,webm": "webm",
    "mpeg": "mpeg",
}
_SAME_CONTAINER: dict[str, frozenset[str]] = {
    "mp3": frozenset({"mp3", "mpga", "mpeg"}),
    "mp4": frozenset({"mp4", "m4a"}),
    "mpeg": frozenset({"mpeg", "mpga", "mp3"}),
    "wav": frozenset({"wav"}),
    "webm": frozenset({"webm"}),
}


async def probe_audio(path: Path, declared_format: str = "") -> AudioInfo:
    """The file's format (one of SUPPORTED_FORMATS) and duration, read from its content."""
    report = await _run_ffprobe(path)
    container = str(report.get("format", {}).get("format_name", ""))
    streams = report.get("streams", [])
    if not any(stream.get("codec_type") == "audio" for stream in streams):
        raise InvalidArgument(
            "The file has no audio track"
            + (f" (ffprobe reads it as {container!r})" if container else "")
            + f": send an audio recording in one of {', '.join(SUPPORTED_FORMATS)}.",
            reason="NOT_AUDIO",
        )
    found = _CONTAINERS.get(container)
    if found is None:
        raise InvalidArgument(
            f"The audio is in a format Routeur does not accept ({container}): convert it to "
            f"one of {', '.join(SUPPORTED_FORMATS)}.",
            reason="UNSUPPORTED_AUDIO_FORMAT",
            metadata={"format": container[:50]},
        )
    declared = declared_format.lower().lstrip(".")
    if declared in _SAME_CONTAINER[found]:
        found = declared  # e.g. m4a rather than mp4, mpga rather than mp3
    elif found == "mp4" and _brand(report).startswith("M4A"):
        found = "m4a"
    return AudioInfo(format=found, duration_s=_duration(report))


def _brand(report: dict[str, Any]) -> str:
    tags = report.get("format", {}).get("tags", {}) or {}
    return str(tags.get("major_brand", ""))


def _duration(report: dict[str, Any]) -> float:
    candidates = [report.get("format", {}).get("duration")]
    candidates += [
        s.get("duration") for s in report.get("streams", []) if s.get("codec_type") == "audio"
    ]
    for value in candidates:
        try:
            seconds = float(value)
        except (TypeError, ValueError):
            continue
        if seconds > 0:
            return seconds
    return 0.0  # unknown (some streamed webm files do not say); the engine will tell


async def _run_ffprobe(path: Path) -> dict[str, Any]:
    executable = shutil.which("ffprobe")
    if executable is None:
        raise Unavailable(
            "Audio cannot be checked on this server: ffprobe is missing (install Debian's "
            "ffmpeg package).",
            reason="FFPROBE_MISSING",
        )
    process = await asyncio.create_subprocess_exec(
        executable,
        "-v",
        "error",
        "-print_format",
        "json",
        "-show_format",
        "-show_streams",
        str(path),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        stdout, _ = await asyncio.wait_for(process.communicate(), PROBE_TIMEOUT_S)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise InvalidArgument(
            "The file could not be read as audio in time: is it a valid recording?",
            reason="NOT_AUDIO",
        ) from None
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    if process.returncode != 0:
        raise InvalidArgument(
            "The file is not audio that can be read: it is corrupt, truncated or not a "
            f"recording. Send one of {', '.join(SUPPORTED_FORMATS)}.",
            reason="NOT_AUDIO",
        )
    try:
        report = json.loads(stdout or b"{}")
    except ValueError:
        report = {}
    return report if isinstance(report, dict) else {}
