"""Speech made for the tests: the sentences, the containers, and loose word comparison."""

from __future__ import annotations

import re
import subprocess
import unicodedata
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Sentence:
    language: str
    voice: str
    text: str
    keywords: tuple[str, ...]


# Sentences espeak-ng pronounces clearly enough for Whisper base to detect their language.
SENTENCES = {
    "en": Sentence(
        "en", "en-us",
        "Please send the quarterly report to the finance team before Friday.",
        ("send", "quarterly", "report", "finance", "team", "friday"),
    ),
    "fr": Sentence(
        "fr", "fr",
        "Bonjour à tous. Le rapport financier est prêt pour la réunion de lundi.",
        ("bonjour", "tous", "rapport", "financier", "pret", "reunion"),
    ),
}

#: ffmpeg arguments per container; mpga and mpeg are other names of MP3.
FORMATS: dict[str, list[str]] = {
    "mp3": ["-c:a", "libmp3lame", "-b:a", "128k"],
    "mp4": ["-c:a", "aac", "-b:a", "128k"],
    "m4a": ["-c:a", "aac", "-b:a", "128k"],
    "wav": ["-c:a", "pcm_s16le"],
    "webm": ["-c:a", "libopus", "-b:a", "128k"],
}


def words(text: str) -> list[str]:
    """Lower-case words without accents or punctuation, to compare transcripts loosely."""
    plain = unicodedata.normalize("NFKD", text.lower())
    plain = "".join(c for c in plain if not unicodedata.combining(c))
    return re.findall(r"[a-z0-9]+", plain)


def convert(source: Path, target: Path, *codec: str) -> Path:
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-i", str(source), *codec, str(target)], check=True
    )
    return target


#: A recording of three tones separated by silences (frequencies, seconds each, gap).
TONES = (440, 880, 1320)
TONE_S = 45.0
GAP_S = 1.5


def tones_recording(path: Path, rate: int = 48000) -> Path:
    """Three tones with 1.5 s of silence between them, as 16-bit stereo WAV (about 26.5 MB).

    Each tone stands for a stretch of speech: a fake upstream can tell which one it was
    sent, and a piece cut in a silence holds exactly one tone.
    """
    clauses = []
    start = 0.0
    for index, frequency in enumerate(TONES):
        end = start + TONE_S
        clauses.append((start, end, frequency))
        start = end + (GAP_S if index < len(TONES) - 1 else 0.0)
    expression = "0"
    for begin, end, frequency in reversed(clauses):
        expression = f"if(between(t,{begin},{end}),0.5*sin(2*PI*{frequency}*t),{expression})"
    expression = expression.replace(",", "\\,")  # commas separate filters in a filtergraph
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
         f"aevalsrc={expression}|{expression}:s={rate}:d={start}",
         "-c:a", "pcm_s16le", str(path)],
        check=True,
    )
    return path


def dominant_tone(audio: bytes) -> int:
    """Which of TONES is loudest in an encoded recording (decoded by ffmpeg, then an FFT)."""
    import numpy

    pcm = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", "pipe:0", "-f", "s16le", "-ac", "1", "-ar", "8000",
         "pipe:1"],
        input=audio, capture_output=True, check=True,
    ).stdout
    samples = numpy.frombuffer(pcm, dtype=numpy.int16).astype(numpy.float32)
    spectrum = numpy.abs(numpy.fft.rfft(samples))
    frequencies = numpy.fft.rfftfreq(len(samples), 1 / 8000)
    peak = float(frequencies[int(numpy.argmax(spectrum))])
    return min(TONES, key=lambda tone: abs(tone - peak))
