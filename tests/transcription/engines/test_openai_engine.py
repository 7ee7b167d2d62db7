"""OpenAI's transcription API (and compatible servers) through the real SDK against a fake:
small files go whole, files over 25 MB go as MP3 pieces cut at silences, in order, each with
the end of the previous piece's text as prompt; upstream faults are never the caller's."""

from __future__ import annotations

import json
import subprocess
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from fakes.audio_transcription_fake import FakeOpenAIAudio, Upload, audio_duration

from routeur_grpc.errors import (
    FailedPrecondition,
    InvalidArgument,
    ResourceExhausted,
    Unavailable,
)
from routeur_grpc.transcription.engine import TranscriptionProgress, TranscriptionRequest
from routeur_grpc.transcription.openai_engine import OpenAITranscriptionEngine
from routeur_grpc.transcription.remote import RemoteLimits

from .speech import GAP_S, TONE_S, TONES, dominant_tone, tones_recording

OPENAI_LIMITS = RemoteLimits(max_upload_bytes=25_000_000, max_piece_s=1300.0)


def openai_engine(
    fake: FakeOpenAIAudio, limits: RemoteLimits = OPENAI_LIMITS, **options: object
) -> OpenAITranscriptionEngine:
    values: dict[str, object] = {"api_key": "sk-test", "max_retries": 0, "timeout_s": 30.0}
    values.update(options)
    return OpenAITranscriptionEngine(
        "openai", base_url=f"{fake.url}/v1", limits=limits, **values  # type: ignore[arg-type]
    )


@pytest.fixture
async def engine(fake_openai_audio: FakeOpenAIAudio) -> AsyncIterator[OpenAITranscriptionEngine]:
    built = openai_engine(fake_openai_audio)
    try:
        yield built
    finally:
        await built.aclose()


@pytest.fixture(scope="session")
def tones_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tones_recording(tmp_path_factory.mktemp("tones") / "three-tones.wav")


def ffprobe_stream(audio: bytes) -> dict[str, object]:
    completed = subprocess.run(
        ["ffprobe", "-v", "error", "-of", "json", "-show_streams", "-show_format", "-i", "pipe:0"],
        input=audio, capture_output=True, check=True,
    )
    info = json.loads(completed.stdout)
    return {**info["streams"][0], "format_name": info["format"]["format_name"]}


async def test_a_small_file_is_sent_whole_under_its_own_container_name(
    engine: OpenAITranscriptionEngine, fake_openai_audio: FakeOpenAIAudio, speech_dir: Path
) -> None:
    fake_openai_audio.reply_text = "Please send the quarterly report."
    source = speech_dir / "en.m4a"
    result = await engine.transcribe(
        TranscriptionRequest(audio_path=source, language="en", prompt="Finance words.",
                             temperature=0.2)
    )
    [upload] = fake_openai_audio.uploads
    assert upload.audio == source.read_bytes()
    assert upload.filename == "audio.m4a"
    assert upload.field("model") == "whisper-1"
    assert upload.field("response_format") == "verbose_json"
    assert upload.field("language") == "en"
    assert upload.field("prompt") == "Finance words."
    assert upload.field("temperature") == "0.2"
    assert result.text == "Please send the quarterly report."
    assert result.language == "en"  # OpenAI says "english"
    assert result.model == "whisper-1"
    assert result.segments and result.segments[0].text == "Please send the quarterly report."
    assert result.cost_usd == pytest.approx(0.006 * result.duration_s / 60, rel=1e-3)


async def test_gpt_4o_transcribe_is_asked_for_plain_json(
    engine: OpenAITranscriptionEngine, fake_openai_audio: FakeOpenAIAudio, speech_dir: Path
) -> None:
    result = await engine.transcribe(
        TranscriptionRequest(audio_path=speech_dir / "fr.mp3", model="gpt-4o-transcribe",
                             language="fr")
    )
    [upload] = fake_openai_audio.uploads
    assert upload.field("response_format") == "json"
    assert upload.filename == "audio.mp3"
    assert result.text == fake_openai_audio.reply_text
    assert result.language == "fr"
    assert result.model == "gpt-4o-transcribe"
    assert result.duration_s > 3


async def test_a_model_the_engine_does_not_offer_is_the_callers_mistake(
    engine: OpenAITranscriptionEngine, speech_dir: Path
) -> None:
    with pytest.raises(InvalidArgument, match="whisper-1"):
        await engine.transcribe(
            TranscriptionRequest(audio_path=speech_dir / "en.mp3", model="whisper-9")
        )


@pytest.mark.slow
async def test_a_recording_over_25_mb_goes_in_mp3_pieces_in_order_with_a_sliding_prompt(
    fake_openai_audio: FakeOpenAIAudio,
    tones_wav: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Pieces of at most 60 s (and the real 25 MB byte limit) over 138 s: three pieces.
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    engine = openai_engine(fake_openai_audio, RemoteLimits(25_000_000, 60.0))

    def transcribe(upload: Upload) -> str:
        return f"Piece {upload.index} sounds like tone {dominant_tone(upload.audio)} hertz."

    fake_openai_audio.transcriber = transcribe
    progress: list[TranscriptionProgress] = []
    try:
        result = await engine.transcribe(
            TranscriptionRequest(audio_path=tones_wav, prompt="Tones and hertz."),
            on_progress=progress.append,
        )
    finally:
        await engine.aclose()

    assert tones_wav.stat().st_size > 25_000_000
    uploads = fake_openai_audio.uploads
    assert len(uploads) == 3
    texts = [f"Piece {i} sounds like tone {tone} hertz." for i, tone in enumerate(TONES)]
    for upload in uploads:
        stream = ffprobe_stream(upload.audio)
        assert stream["format_name"] == "mp3" and stream["codec_name"] == "mp3"
        assert int(str(stream["bit_rate"])) == 128_000
        assert len(upload.audio) < 25_000_000
        assert upload.filename.endswith(".mp3")
        # Cut in the silences between tones (at most 60 s), not at 60 s.
        assert TONE_S - 1 < audio_duration(upload.audio) < TONE_S + GAP_S + 1
    assert [upload.field("prompt") for upload in uploads] == [
        "Tones and hertz.",
        f"Tones and hertz. {texts[0]}",
        f"Tones and hertz. {texts[1]}",
    ]
    assert result.text == " ".join(texts)
    assert [segment.text for segment in result.segments] == texts
    assert result.segments[1].start_s == pytest.approx(TONE_S + GAP_S / 2, abs=0.5)
    assert result.segments[2].start_s == pytest.approx(2 * TONE_S + 1.5 * GAP_S, abs=0.5)
    assert result.duration_s == pytest.approx(3 * TONE_S + 2 * GAP_S, abs=0.2)
    done = [p.done_s for p in progress]
    assert done == sorted(done) and len(done) >= 3
    assert progress[-1].percent == 100.0
    assert list(tmp_path.iterdir()) == [], "every temporary piece is removed"


@pytest.mark.slow
async def test_a_failing_piece_fails_the_whole_and_leaves_no_temporary_file(
    fake_openai_audio: FakeOpenAIAudio,
    tones_wav: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    engine = openai_engine(fake_openai_audio, RemoteLimits(25_000_000, 60.0))

    def transcribe(upload: Upload) -> str:
        if upload.index == 1:
            fake_openai_audio.fail_next(503)  # applies to this very request
        return "piece"

    fake_openai_audio.transcriber = transcribe
    try:
        with pytest.raises(Unavailable):
            await engine.transcribe(TranscriptionRequest(audio_path=tones_wav))
    finally:
        await engine.aclose()
    assert len(fake_openai_audio.uploads) == 2
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("status", "error", "reason"),
    [
        (500, Unavailable, "UPSTREAM_UNAVAILABLE"),
        (503, Unavailable, "UPSTREAM_UNAVAILABLE"),
        (429, ResourceExhausted, "UPSTREAM_RATE_LIMITED"),
        (401, FailedPrecondition, "UPSTREAM_CREDENTIALS_REJECTED"),
        (413, FailedPrecondition, "UPSTREAM_FILE_TOO_LARGE"),
        (502, Unavailable, "UPSTREAM_UNAVAILABLE"),
    ],
)
async def test_upstream_failures_are_never_blamed_on_the_caller(
    engine: OpenAITranscriptionEngine,
    fake_openai_audio: FakeOpenAIAudio,
    speech_dir: Path,
    status: int,
    error: type[Exception],
    reason: str,
) -> None:
    fake_openai_audio.fail_next(status, retry_after="7" if status == 429 else None)
    with pytest.raises(error) as raised:
        await engine.transcribe(TranscriptionRequest(audio_path=speech_dir / "en.mp3"))
    assert not isinstance(raised.value, InvalidArgument)
    assert raised.value.reason == reason  # type: ignore[attr-defined]
    assert "sk-test" not in str(raised.value)
    if status == 429:
        assert raised.value.retry_after_s == 7  # type: ignore[attr-defined]


async def test_a_transient_failure_is_retried_by_the_sdk(
    fake_openai_audio: FakeOpenAIAudio, speech_dir: Path
) -> None:
    engine = openai_engine(fake_openai_audio, max_retries=1)
    fake_openai_audio.fail_next(500)
    try:
        result = await engine.transcribe(TranscriptionRequest(audio_path=speech_dir / "en.wav"))
    finally:
        await engine.aclose()
    assert result.text == fake_openai_audio.reply_text
    assert len(fake_openai_audio.uploads) == 2


async def test_the_upstream_refusing_the_audio_is_reported_with_its_reason(
    engine: OpenAITranscriptionEngine, fake_openai_audio: FakeOpenAIAudio, speech_dir: Path
) -> None:
    fake_openai_audio.fail_next(
        400, body={"error": {"message": "Audio file might be corrupted or unsupported",
                             "type": "invalid_request_error", "param": "file", "code": None}},
    )
    with pytest.raises(InvalidArgument, match="corrupted or unsupported"):
        await engine.transcribe(TranscriptionRequest(audio_path=speech_dir / "en.mp3"))


async def test_an_openai_compatible_server_needs_no_key(
    fake_openai_audio: FakeOpenAIAudio, speech_dir: Path
) -> None:
    engine = OpenAITranscriptionEngine(
        "whisper-server", api_key=None, base_url=f"{fake_openai_audio.url}/v1",
        models=("Systran/faster-whisper-small",), limits=OPENAI_LIMITS, max_retries=0,
    )
    try:
        result = await engine.transcribe(TranscriptionRequest(audio_path=speech_dir / "en.webm"))
    finally:
        await engine.aclose()
    [upload] = fake_openai_audio.uploads
    assert upload.field("model") == "Systran/faster-whisper-small"
    assert upload.filename == "audio.webm"
    assert result.model == "Systran/faster-whisper-small"
    assert result.cost_usd is None, "no price is known for a self-hosted model"
    assert fake_openai_audio.requests[-1].headers["authorization"] == "Bearer not-needed"


async def test_an_unreachable_server_is_unavailable(speech_dir: Path) -> None:
    engine = OpenAITranscriptionEngine(
        "openai", api_key="sk-test", base_url="http://127.0.0.1:9/v1", limits=OPENAI_LIMITS,
        max_retries=0, timeout_s=5.0,
    )
    try:
        with pytest.raises(Unavailable):
            await engine.transcribe(TranscriptionRequest(audio_path=speech_dir / "en.mp3"))
    finally:
        await engine.aclose()
