"""TranscribeAudio, TranscribeMeeting and GetSupportedFormats over gRPC."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from routeur.v1 import transcription_service_pb2 as pb
from support import error_info

from .audio import ENCODINGS
from .conftest import spool_files
from .scripted_engine import SPOKEN_TEXT

CHUNK = 64 * 1024


def upload(path: Path, message: type = pb.TranscribeAudioRequest, **options: object) -> Iterator:
    """The client stream of an upload: options first, then the file in chunks."""
    yield message(file_name=path.name, **options)
    data = path.read_bytes()
    for start in range(0, len(data), CHUNK):
        yield message(audio={"data": data[start : start + CHUNK]})


@pytest.mark.parametrize("fmt", sorted(ENCODINGS))
async def test_every_supported_format_is_transcribed(stt, recordings, engine, fmt):
    answer = await stt.TranscribeAudio(upload(recordings[fmt]))
    assert answer.text == SPOKEN_TEXT
    assert answer.model == "scripted-1"
    assert answer.language == "en"
    assert 1.0 < answer.duration < 10.0
    # The engine gets a file named after its real format (OpenAI's API reads the name).
    assert engine.requests[-1].audio_path.suffix == f".{fmt}"


async def test_the_language_prompt_and_model_reach_the_engine(stt, recordings, engine):
    answer = await stt.TranscribeAudio(
        upload(recordings["fr"], language="FR", prompt="Réunion CAPL", model="scripted-meeting")
    )
    assert (answer.language, answer.model) == ("fr", "scripted-meeting")
    request = engine.requests[-1]
    assert (request.language, request.prompt, request.model) == (
        "fr",
        "Réunion CAPL",
        "scripted-meeting",
    )


async def test_auto_means_detect(stt, recordings, engine):
    await stt.TranscribeAudio(upload(recordings["wav"], language="auto"))
    assert engine.requests[-1].language is None


async def test_text_is_refused_naming_the_problem(stt, stt_server, tmp_path):
    fake = tmp_path / "notes.mp3"
    fake.write_text("This is a text file, not a recording.\n" * 100)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stt.TranscribeAudio(upload(fake))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "audio" in caught.value.details()
    assert error_info(caught.value).reason in ("NOT_AUDIO", "UNSUPPORTED_AUDIO_FORMAT")
    assert spool_files(stt_server) == []


async def test_a_truncated_recording_is_refused(stt, recordings, tmp_path):
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(recordings["mp4"].read_bytes()[:200])
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stt.TranscribeAudio(upload(broken))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_an_audio_format_not_accepted_is_named(stt, recordings, tmp_path):
    ogg = tmp_path / "audio.ogg"
    await asyncio.to_thread(
        subprocess.run,
        ["ffmpeg", "-v", "error", "-i", str(recordings["wav"]), "-c:a", "libvorbis", str(ogg)],
        check=True,
    )
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stt.TranscribeAudio(upload(ogg))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "ogg" in caught.value.details()
    assert error_info(caught.value).reason == "UNSUPPORTED_AUDIO_FORMAT"


async def test_a_bad_language_or_model_is_the_callers_mistake(stt, recordings):
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stt.TranscribeAudio(upload(recordings["wav"], language="french"))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "ISO-639-1" in caught.value.details()
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stt.TranscribeAudio(upload(recordings["wav"], model="whisper-9"))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "scripted-1" in caught.value.details()


async def test_an_empty_upload_is_refused(stt):
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stt.TranscribeAudio(iter([pb.TranscribeAudioRequest(file_name="a.wav")]))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_supported_formats_give_the_real_limits(stt):
    answer = await stt.GetSupportedFormats(pb.GetSupportedFormatsRequest())
    assert list(answer.supported_formats) == ["mp3", "mp4", "mpeg", "mpga", "m4a", "wav", "webm"]
    assert answer.max_file_size_mb == 1
    assert answer.model == "scripted-1"
    assert answer.languages == "Auto-detection or specify ISO-639-1 code"
    assert "scripted-meeting" in answer.models
