"""Real recordings for the tests: espeak-ng speaks a sentence, ffmpeg converts it."""

from __future__ import annotations

import subprocess
from pathlib import Path

# ffmpeg arguments that make each supported format.
ENCODINGS: dict[str, list[str]] = {
    "wav": ["-f", "wav"],
    "mp3": ["-c:a", "libmp3lame", "-b:a", "64k", "-f", "mp3"],
    "mpga": ["-c:a", "libmp3lame", "-b:a", "64k", "-f", "mp3"],
    "mp4": ["-c:a", "aac", "-b:a", "64k", "-f", "mp4"],
    "m4a": ["-c:a", "aac", "-b:a", "64k", "-f", "ipod"],
    "mpeg": ["-c:a", "mp2", "-b:a", "64k", "-f", "mpeg"],
    "webm": ["-c:a", "libopus", "-b:a", "32k", "-f", "webm"],
}


def speak(text: str, path: Path, voice: str = "en") -> Path:
    """A WAV recording of `text`, spoken by espeak-ng."""
    subprocess.run(["espeak-ng", "-v", voice, "-w", str(path), text], check=True)
    return path


def convert(source: Path, fmt: str, target: Path) -> Path:
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-i", str(source), *ENCODINGS[fmt], str(target)],
        check=True,
    )
    return target


def long_recording(source: Path, seconds: int, target: Path) -> Path:
    """`source` looped for `seconds`, as WAV."""
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-y",
            "-stream_loop",
            "-1",
            "-i",
            str(source),
            "-t",
            str(seconds),
            "-f",
            "wav",
            str(target),
        ],
        check=True,
    )
    return target
