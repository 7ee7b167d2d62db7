"""Measuring a recording and cutting it into pieces an engine accepts, with pydub and ffmpeg.

Engines have limits (OpenAI takes 25 MB and about 25 minutes in one request) and a long
recording decoded at once costs memory in proportion to its length. So a recording over a
limit is cut into pieces, each short enough to stay under it, cut inside a silence near
the end when there is one so that no word is split, and encoded as asked (MP3 at 128 kbps
for remote engines, as OpenAI's own guide does; 16 kHz mono WAV for the local engine).

Pieces are made one at a time, when the previous one has been transcribed, so only one
piece of decoded audio is ever in memory and on disk. Everything here blocks (ffmpeg
subprocesses, pydub's pure-Python signal code): callers run it in a worker thread.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from pydub import AudioSegment
from pydub.exceptions import CouldntDecodeError
from pydub.silence import detect_silence

from routeur_grpc.errors import FailedPrecondition, InvalidArgument

#: Stop cutting when less than this remains (rounding in reported durations).
_TAIL_EPSILON_S = 0.05
#: Share of a full piece, at its end, searched for a silence to cut in (at most _SEARCH_MAX_S).
_SEARCH_SHARE = 0.25
_SEARCH_MAX_S = 120.0
#: A pause at least this long counts as a place to cut.
_MIN_SILENCE_MS = 300
#: Silence is this many dB below the searched stretch's average loudness.
_SILENCE_BELOW_AVERAGE_DB = 16.0
#: Margin kept under a byte limit: MP3 frames and headers add a little to the nominal rate.
_BYTE_MARGIN = 0.95


@dataclass(frozen=True, slots=True)
class AudioInfo:
    """What ffprobe says of a recording."""

    duration_s: float
    format_name: str  # ffprobe's, e.g. "mp3", "wav", "mov,mp4,m4a,3gp,3g2,mj2"
    size_bytes: int


@dataclass(frozen=True, slots=True)
class PieceFormat:
    """How pieces are encoded and how long they may be."""

    extension: str  # "mp3" or "wav"
    max_seconds: float
    max_bytes: int | None = None
    bitrate_kbps: int | None = None  # for lossy formats
    sample_rate: int | None = None  # resample to this rate (None: keep the source's)
    mono: bool = False

    @property
    def piece_seconds(self) -> float:
        """The longest piece that respects both the duration and the byte limit."""
        seconds = self.max_seconds
        if self.max_bytes is not None and self.bitrate_kbps:
            seconds = min(seconds, self.max_bytes * _BYTE_MARGIN / (self.bitrate_kbps * 125))
        return seconds


def mp3_pieces(max_bytes: int, max_seconds: float) -> PieceFormat:
    """MP3 at 128 kbps, the format remote engines receive pieces in."""
    return PieceFormat("mp3", max_seconds, max_bytes=max_bytes, bitrate_kbps=128)


def wav_pieces(max_seconds: float) -> PieceFormat:
    """16 kHz mono WAV: what Whisper decodes anyway, lossless and cheap to read."""
    return PieceFormat("wav", max_seconds, sample_rate=16000, mono=True)


@dataclass(frozen=True, slots=True)
class AudioPiece:
    """One piece on disk and where it sits in the whole recording."""

    index: int
    path: Path
    start_s: float
    duration_s: float


def probe(path: Path) -> AudioInfo:
    """Duration and container of the recording at `path` (InvalidArgument when not audio)."""
    ffprobe = shutil.which("ffprobe")
    if ffprobe is None:
        raise FailedPrecondition(
            "ffmpeg is not installed on the server (ffprobe is missing); the operator must "
            "install it (`apt-get install -y ffmpeg`)."
        )
    completed = subprocess.run(
        [ffprobe, "-v", "error", "-of", "json", "-show_format", "-show_streams", str(path)],
        capture_output=True,
        check=False,
        timeout=120,
    )
    try:
        info = json.loads(completed.stdout or b"{}")
    except ValueError:
        info = {}
    streams = [s for s in info.get("streams", []) if s.get("codec_type") == "audio"]
    if completed.returncode != 0 or not streams:
        raise InvalidArgument(
            "The file is not a recording that can be decoded (no audio stream found). "
            "Send mp3, mp4, mpeg, mpga, m4a, wav or webm audio."
        )
    fmt = info.get("format", {})
    duration = _float(fmt.get("duration")) or _float(streams[0].get("duration"))
    return AudioInfo(
        duration_s=duration,
        format_name=str(fmt.get("format_name", "")),
        size_bytes=path.stat().st_size,
    )


def _float(value: object) -> float:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 0.0
    return number if math.isfinite(number) else 0.0


def needs_cutting(info: AudioInfo, fmt: PieceFormat) -> bool:
    """Whether the recording is over the engine's duration or byte limit."""
    too_big = fmt.max_bytes is not None and info.size_bytes > fmt.max_bytes
    return too_big or info.duration_s > fmt.max_seconds


class AudioCutter:
    """Cuts one recording into successive pieces, written into `work_dir`.

    The source is read through a link without extension so that ffmpeg decodes only the
    stretch asked for (pydub would read a whole `.wav` file into memory first).
    """

    def __init__(self, source: Path, total_s: float, fmt: PieceFormat, work_dir: Path) -> None:
        self._total_s = total_s
        self._fmt = fmt
        self._work_dir = work_dir
        self._source = work_dir / "source"
        self._source.symlink_to(source.resolve())

    def done(self, start_s: float) -> bool:
        return start_s >= self._total_s - _TAIL_EPSILON_S

    def cut(self, index: int, start_s: float) -> AudioPiece:
        """The piece starting at `start_s`: as long as allowed, ended in a silence if any."""
        length = self._fmt.piece_seconds
        last = start_s + length >= self._total_s - _TAIL_EPSILON_S
        try:
            audio = AudioSegment.from_file(
                self._source, start_second=start_s, duration=None if last else length
            )
        except (CouldntDecodeError, OSError, IndexError, KeyError) as error:
            raise InvalidArgument(
                f"The recording could not be decoded after {start_s:.0f} s; it may be "
                "truncated or corrupt."
            ) from error
        if not last:
            audio = audio[: _cut_point_ms(audio)]
        if self._fmt.mono:
            audio = audio.set_channels(1)
        if self._fmt.sample_rate:
            audio = audio.set_frame_rate(self._fmt.sample_rate)
        path = self._work_dir / f"piece-{index:04d}.{self._fmt.extension}"
        bitrate = f"{self._fmt.bitrate_kbps}k" if self._fmt.bitrate_kbps else None
        audio.export(path, format=self._fmt.extension, bitrate=bitrate).close()
        return AudioPiece(index, path, start_s, len(audio) / 1000.0)


def _cut_point_ms(audio: AudioSegment) -> int:
    """Where to end a full piece: in the middle of the last pause near its end, else at its end."""
    total_ms = len(audio)
    window_ms = int(min(total_ms * _SEARCH_SHARE, _SEARCH_MAX_S * 1000))
    search_from = total_ms - window_ms
    # Mono and 8 kHz are enough to find pauses, and make pydub's scan cheap.
    stretch = audio[search_from:].set_channels(1).set_frame_rate(8000)
    if stretch.rms == 0:
        return total_ms
    pauses = detect_silence(
        stretch,
        min_silence_len=_MIN_SILENCE_MS,
        silence_thresh=stretch.dBFS - _SILENCE_BELOW_AVERAGE_DB,
        seek_step=10,
    )
    if not pauses:
        return total_ms
    start, end = max(pauses, key=lambda pause: pause[1])
    return search_from + (start + end) // 2
