"""A speech-to-text engine for tests: a real `TranscriptionEngine`, with no model behind it.

It reads the recording's duration with ffprobe, walks through it in `steps` segments
(reporting progress after each, waiting `step_delay_s` between them, so a test can watch a
job move or kill its server part-way), and answers a fixed text. It remembers what it was
asked, so tests can check what reached the engine.
"""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path

from routeur_grpc.transcription.engine import (
    ProgressCallback,
    TranscriptionProgress,
    TranscriptionRequest,
    TranscriptionResult,
    TranscriptSegment,
)

SPOKEN_TEXT = "Hello, this is a transcription test."


class ScriptedEngine:
    def __init__(
        self,
        name: str = "scripted",
        models: tuple[str, ...] = ("scripted-1", "scripted-meeting"),
        text: str = SPOKEN_TEXT,
        steps: int = 4,
        step_delay_s: float = 0.0,
        cost_usd: float | None = None,
    ) -> None:
        self._name = name
        self._models = models
        self.text = text
        self.steps = steps
        self.step_delay_s = step_delay_s
        self.cost_usd = cost_usd
        self.requests: list[TranscriptionRequest] = []
        self.closed = False

    @property
    def name(self) -> str:
        return self._name

    @property
    def models(self) -> tuple[str, ...]:
        return self._models

    @property
    def max_upload_bytes(self) -> int | None:
        return None

    async def transcribe(
        self, request: TranscriptionRequest, on_progress: ProgressCallback | None = None
    ) -> TranscriptionResult:
        self.requests.append(request)
        duration = await _duration(request.audio_path)
        segments = []
        for step in range(1, self.steps + 1):
            await asyncio.sleep(self.step_delay_s)
            start, end = duration * (step - 1) / self.steps, duration * step / self.steps
            segments.append(TranscriptSegment(start, end, f"part {step}"))
            if on_progress is not None:
                on_progress(TranscriptionProgress(done_s=end, total_s=duration))
        return TranscriptionResult(
            text=self.text,
            language=request.language or "en",
            duration_s=duration,
            model=request.model or self._models[0],
            segments=tuple(segments),
            cost_usd=self.cost_usd,
        )

    async def aclose(self) -> None:
        self.closed = True


async def _duration(path: Path) -> float:
    process = await asyncio.create_subprocess_exec(
        shutil.which("ffprobe") or "ffprobe",
        "-v",
        "error",
        "-print_format",
        "json",
        "-show_format",
        str(path),
        stdout=asyncio.subprocess.PIPE,
    )
    stdout, _ = await process.communicate()
    return float(json.loads(stdout)["format"]["duration"])
