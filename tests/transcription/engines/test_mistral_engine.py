"""Mistral's transcription API through the real SDK against a fake speaking its protocol."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from fakes.audio_transcription_fake import FakeMistralAudio

from routeur_grpc.errors import FailedPrecondition, InvalidArgument, ResourceExhausted, Unavailable
from routeur_grpc.transcription.engine import TranscriptionRequest
from routeur_grpc.transcription.mistral_engine import MistralTranscriptionEngine
from routeur_grpc.transcription.remote import RemoteLimits


@pytest.fixture
async def engine(fake_mistral_audio: FakeMistralAudio) -> AsyncIterator[MistralTranscriptionEngine]:
    built = MistralTranscriptionEngine(
        "mistral", api_key="test-key", server_url=fake_mistral_audio.url,
        limits=RemoteLimits(25_000_000, 1300.0), max_retries=0, timeout_s=30.0,
    )
    try:
        yield built
    finally:
        await built.aclose()


async def test_transcribes_through_the_audio_api(
    engine: MistralTranscriptionEngine, fake_mistral_audio: FakeMistralAudio, speech_dir: Path
) -> None:
    fake_mistral_audio.reply_text = "Bonjour à tous."
    source = speech_dir / "fr.mp3"
    result = await engine.transcribe(
        TranscriptionRequest(audio_path=source, language="fr", prompt="not sent", temperature=0.0)
    )
    [upload] = fake_mistral_audio.uploads
    assert upload.audio == source.read_bytes()
    assert upload.filename == "audio.mp3"
    assert upload.field("model") == "voxtral-mini-latest"
    assert upload.field("language") == "fr"
    assert upload.field("prompt") is None, "Mistral takes no free-text prompt"
    assert fake_mistral_audio.requests[-1].headers["authorization"] == "Bearer test-key"
    assert result.text == "Bonjour à tous."
    assert result.language == "fr"
    assert result.model == "voxtral-mini-latest"
    assert result.segments[0].text == "Bonjour à tous."
    assert result.cost_usd == pytest.approx(0.001 * result.duration_s / 60, rel=1e-3)


@pytest.mark.parametrize(
    ("status", "error"),
    [(500, Unavailable), (503, Unavailable), (429, ResourceExhausted), (401, FailedPrecondition)],
)
async def test_upstream_failures_are_never_blamed_on_the_caller(
    engine: MistralTranscriptionEngine,
    fake_mistral_audio: FakeMistralAudio,
    speech_dir: Path,
    status: int,
    error: type[Exception],
) -> None:
    fake_mistral_audio.fail_next(status)
    with pytest.raises(error) as raised:
        await engine.transcribe(TranscriptionRequest(audio_path=speech_dir / "en.wav"))
    assert not isinstance(raised.value, InvalidArgument)
    assert "test-key" not in str(raised.value)
