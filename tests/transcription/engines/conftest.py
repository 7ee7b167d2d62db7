"""Fixtures for the speech-to-text engines: real speech, the local model, fake upstreams.

Speech is made once per session with espeak-ng (one English and one French sentence) and
converted by ffmpeg to each container the API accepts. The local model is loaded once per
session and shared, as the server shares it. Fake upstreams are real HTTP servers on
127.0.0.1 driven through the real SDKs.
"""

from __future__ import annotations

import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from fakes.audio_transcription_fake import FakeMistralAudio, FakeOpenAIAudio

from routeur_grpc.settings import Settings
from routeur_grpc.transcription.local_whisper import LocalWhisperEngine
from routeur_grpc.transcription.registry import local_engine_config

from .speech import FORMATS, SENTENCES, convert


@pytest.fixture(scope="session")
def speech_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`en.<ext>` and `fr.<ext>` for each container, and `en.mpga` (MP3 by another name)."""
    directory = tmp_path_factory.mktemp("speech")
    for sentence in SENTENCES.values():
        raw = directory / f"{sentence.language}-espeak.wav"
        subprocess.run(
            ["espeak-ng", "-v", sentence.voice, "-s", "140", "-w", str(raw), sentence.text],
            check=True,
        )
        for extension, codec in FORMATS.items():
            convert(raw, directory / f"{sentence.language}.{extension}", *codec)
    (directory / "en.mpga").write_bytes((directory / "en.mp3").read_bytes())
    return directory


@pytest.fixture(scope="session")
async def local_engine() -> AsyncIterator[LocalWhisperEngine]:
    """The default local engine (bundled multilingual base), loaded once for the session."""
    engine = LocalWhisperEngine(local_engine_config(Settings()))
    await engine.start()
    try:
        yield engine
    finally:
        await engine.aclose()


@pytest.fixture(scope="session")
async def openai_audio_upstream() -> AsyncIterator[FakeOpenAIAudio]:
    fake = FakeOpenAIAudio()
    await fake.start()
    try:
        yield fake
    finally:
        await fake.stop()


@pytest.fixture(scope="session")
async def mistral_audio_upstream() -> AsyncIterator[FakeMistralAudio]:
    fake = FakeMistralAudio()
    await fake.start()
    try:
        yield fake
    finally:
        await fake.stop()


@pytest.fixture
def fake_openai_audio(openai_audio_upstream: FakeOpenAIAudio) -> FakeOpenAIAudio:
    openai_audio_upstream.reset()
    return openai_audio_upstream


@pytest.fixture
def fake_mistral_audio(mistral_audio_upstream: FakeMistralAudio) -> FakeMistralAudio:
    mistral_audio_upstream.reset()
    return mistral_audio_upstream
