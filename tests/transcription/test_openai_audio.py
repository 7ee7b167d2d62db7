"""OpenAI's SDK, unchanged, transcribing through Envoy's `/v1/audio/transcriptions`."""

from __future__ import annotations

import openai
import pytest
from support import auth_headers

from .scripted_engine import SPOKEN_TEXT


@pytest.fixture
async def sdk(stt_gateway):
    async with openai.AsyncOpenAI(
        base_url=f"{stt_gateway.rest_url}/v1",
        api_key="unused",
        default_headers=auth_headers(),
        max_retries=0,
    ) as client:
        yield client


async def test_json_is_the_default(sdk, recordings):
    with recordings["mp3"].open("rb") as file:
        result = await sdk.audio.transcriptions.create(model="scripted-1", file=file)
    assert result.text == SPOKEN_TEXT


async def test_text(sdk, recordings):
    with recordings["m4a"].open("rb") as file:
        result = await sdk.audio.transcriptions.create(
            model="scripted-1", file=file, response_format="text", language="en"
        )
    assert result.strip() == SPOKEN_TEXT


async def test_verbose_json_has_segment_timestamps(sdk, recordings, engine):
    with recordings["wav"].open("rb") as file:
        result = await sdk.audio.transcriptions.create(
            model="scripted-1",
            file=file,
            response_format="verbose_json",
            language="fr",
            prompt="CAPL",
            temperature=0.2,
        )
    assert result.text == SPOKEN_TEXT
    assert result.language == "fr"
    assert result.duration > 1
    assert [s.text for s in result.segments] == ["part 1", "part 2", "part 3", "part 4"]
    assert result.segments[-1].end == pytest.approx(result.duration)
    request = engine.requests[-1]
    assert (request.prompt, request.temperature) == ("CAPL", 0.2)


async def test_srt_and_vtt_subtitles(sdk, recordings):
    with recordings["wav"].open("rb") as file:
        srt = await sdk.audio.transcriptions.create(
            model="scripted-1", file=file, response_format="srt"
        )
    assert srt.startswith("1\n00:00:00,000 --> 00:00:0")
    with recordings["wav"].open("rb") as file:
        vtt = await sdk.audio.transcriptions.create(
            model="scripted-1", file=file, response_format="vtt"
        )
    assert vtt.startswith("WEBVTT\n\n00:00:00.000 --> ")
    assert "part 4" in vtt


async def test_an_unknown_model_raises_bad_request(sdk, recordings):
    with recordings["wav"].open("rb") as file, pytest.raises(openai.BadRequestError) as caught:
        await sdk.audio.transcriptions.create(model="whisper-9", file=file)
    assert "whisper-9" in str(caught.value)


async def test_whisper_1_means_the_default_engine_and_the_answer_says_which(sdk, recordings):
    with recordings["mp3"].open("rb") as file:
        raw = await sdk.audio.transcriptions.with_raw_response.create(model="whisper-1", file=file)
    assert raw.parse().text == SPOKEN_TEXT
    assert raw.headers["x-routeur-model"] == "scripted-1"
