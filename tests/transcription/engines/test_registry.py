"""Which engines the settings make, which one is the default, and which answers a model name.

Nothing here loads the local model: engines load on `start`, not when built. The lookup
itself is also specified over scripted engines, as the transcription tests' servers get it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from routeur_grpc.errors import FailedPrecondition, InvalidArgument
from routeur_grpc.settings import Settings, SettingsError
from routeur_grpc.transcription.local_whisper import LocalWhisperEngine
from routeur_grpc.transcription.mistral_engine import MistralTranscriptionEngine
from routeur_grpc.transcription.model_files import bundled_source, directory_source
from routeur_grpc.transcription.openai_engine import OpenAITranscriptionEngine
from routeur_grpc.transcription.registry import TranscriptionEngines, build_engines

from ..scripted_engine import ScriptedEngine

OPENAI = {"name": "openai", "type": "openai", "api_key": "sk-test"}
MISTRAL = {"name": "mistral", "type": "mistral", "api_key": "test"}
VLLM = {"name": "vllm", "type": "openai_compatible", "base_url": "http://127.0.0.1:8000/v1"}
ANTHROPIC = {"name": "anthropic", "type": "anthropic", "api_key": "test"}

LOCAL_SCRIPT = ScriptedEngine("local", ("whisper-base", "whisper-tiny.en"))
OPENAI_SCRIPT = ScriptedEngine("openai", ("whisper-1", "gpt-4o-transcribe"))
SCRIPTED = TranscriptionEngines(
    {"local": LOCAL_SCRIPT, "openai": OPENAI_SCRIPT}, meeting_model="whisper-tiny.en"
)


def settings(**values: Any) -> Settings:
    return Settings(**values)


async def test_with_no_provider_the_local_engine_is_the_default() -> None:
    engines = build_engines(settings(providers=[ANTHROPIC]))
    try:
        assert list(engines.engines) == ["local"]
        assert engines.default_name == "local"
        assert engines.default_model == "local/whisper-base"
        assert engines.meeting_model == "local/whisper-base"
        resolved = engines.resolve("")
        assert isinstance(resolved.engine, LocalWhisperEngine)
        assert resolved.model == "local/whisper-base"
    finally:
        await engines.aclose()


async def test_an_openai_provider_serves_audio_and_becomes_the_default() -> None:
    engines = build_engines(settings(providers=[VLLM, MISTRAL, OPENAI, ANTHROPIC]))
    try:
        assert set(engines.engines) == {"local", "vllm", "mistral", "openai"}
        assert engines.default_name == "openai"
        assert engines.default_model == "whisper-1"
        assert engines.meeting_model == "gpt-4o-transcribe"
        assert engines.resolve("gpt-4o-transcribe").engine is engines.engine("openai")
        assert engines.resolve("voxtral-mini-latest").engine is engines.engine("mistral")
        assert engines.resolve("local/whisper-base").engine is engines.engine("local")
        # whisper-1 is offered by openai (the default) and vllm: the default wins,
        # and `engine/model` picks the other.
        assert engines.resolve("whisper-1").engine is engines.engine("openai")
        chosen = engines.resolve("vllm/whisper-1")
        assert chosen.engine is engines.engine("vllm") and chosen.model == "whisper-1"
        assert isinstance(engines.engine("mistral"), MistralTranscriptionEngine)
        assert isinstance(engines.engine("vllm"), OpenAITranscriptionEngine)
        assert engines.model_names()[:3] == ["whisper-1", "gpt-4o-transcribe", "gpt-4o-mini-transcribe"]
    finally:
        await engines.aclose()


async def test_mistral_is_the_default_when_it_is_the_only_audio_provider() -> None:
    engines = build_engines(settings(providers=[MISTRAL, VLLM]))
    try:
        assert engines.default_name == "mistral"
        assert engines.default_model == "voxtral-mini-latest"
    finally:
        await engines.aclose()


async def test_a_compatible_server_is_used_only_when_named() -> None:
    engines = build_engines(settings(providers=[VLLM]))
    assert engines.default_name == "local"
    await engines.aclose()
    named = build_engines(
        settings(
            providers=[VLLM],
            transcription_engine="vllm",
            transcription_models={"vllm": ["Systran/faster-whisper-large-v3"]},
        )
    )
    try:
        assert named.default_model == "Systran/faster-whisper-large-v3"
    finally:
        await named.aclose()


async def test_unknown_model_names_are_refused_with_the_available_ones() -> None:
    engines = build_engines(settings())
    try:
        with pytest.raises(InvalidArgument, match="local/whisper-base"):
            engines.resolve("whisper-1")
        with pytest.raises(InvalidArgument, match="configured: local"):
            engines.engine("openai")
    finally:
        await engines.aclose()


def test_settings_naming_a_missing_engine_or_model_are_refused() -> None:
    with pytest.raises(SettingsError, match="transcription_engine 'openai'"):
        build_engines(settings(transcription_engine="openai"))
    with pytest.raises(SettingsError, match="transcription_model"):
        build_engines(settings(transcription_model="whisper-1"))
    with pytest.raises(SettingsError, match="configured: none"):
        build_engines(settings(transcription_local_enabled=False))


async def test_disabled_providers_serve_no_audio() -> None:
    engines = build_engines(settings(providers=[{**OPENAI, "enabled": False}]))
    try:
        assert list(engines.engines) == ["local"]
    finally:
        await engines.aclose()


def test_the_bundled_models_are_complete_local_files() -> None:
    base = bundled_source("base")
    assert [part.name for part in base.model_parts] == ["model.bin.part1", "model.bin.part2"]
    assert sum(part.stat().st_size for part in base.model_parts) == 145_217_532
    tiny = bundled_source("tiny.en")
    assert (tiny.directory / "tokenizer.json").is_file()


def test_a_model_directory_without_its_tokenizer_is_refused_rather_than_downloaded(
    tmp_path: Path,
) -> None:
    for name in ("config.json", "vocabulary.txt", "model.bin"):
        (tmp_path / name).write_bytes(b"{}")
    with pytest.raises(FailedPrecondition, match="tokenizer.json") as raised:
        directory_source(tmp_path)
    assert str(tmp_path) not in str(raised.value), "no server path in a message"
    with pytest.raises(FailedPrecondition):
        build_engines(settings(transcription_local_model_dir=tmp_path))


async def test_a_model_directory_in_parts_is_joined(tmp_path: Path) -> None:
    base = bundled_source("base")
    for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
        (tmp_path / name).symlink_to(base.directory / name)
    for part in base.model_parts:
        (tmp_path / part.name).symlink_to(part)
    engines = build_engines(
        settings(transcription_local_model_dir=tmp_path, transcription_local_model_name="local/mine")
    )
    try:
        assert engines.default_model == "local/mine"
        assert len(directory_source(tmp_path).model_parts) == 2
    finally:
        await engines.aclose()


@pytest.mark.parametrize(
    ("asked", "engine", "model"),
    [
        ("", LOCAL_SCRIPT, "whisper-base"),
        ("whisper-1", OPENAI_SCRIPT, "whisper-1"),
        ("openai/gpt-4o-transcribe", OPENAI_SCRIPT, "gpt-4o-transcribe"),
        ("openai", OPENAI_SCRIPT, "whisper-1"),
        ("whisper-tiny.en", LOCAL_SCRIPT, "whisper-tiny.en"),
    ],
)
def test_a_model_name_finds_its_engine(asked: str, engine: ScriptedEngine, model: str) -> None:
    assert SCRIPTED.resolve(asked) == (engine, model)


def test_meetings_have_their_own_default_model() -> None:
    assert SCRIPTED.resolve("", meeting=True) == (LOCAL_SCRIPT, "whisper-tiny.en")


def test_with_no_engine_or_model_named_the_first_ones_answer() -> None:
    engines = TranscriptionEngines({"openai": OPENAI_SCRIPT, "local": LOCAL_SCRIPT})
    assert engines.default_name == "openai"
    assert engines.resolve("", meeting=True) == (OPENAI_SCRIPT, "whisper-1")


def test_an_unknown_model_lists_the_known_ones() -> None:
    with pytest.raises(InvalidArgument) as caught:
        SCRIPTED.resolve("whisper-9")
    assert "whisper-base" in caught.value.message and "gpt-4o-transcribe" in caught.value.message
    assert caught.value.reason == "UNKNOWN_MODEL"
    assert not SCRIPTED.serves("whisper-9")


def test_no_engine_is_a_failed_precondition() -> None:
    engines = TranscriptionEngines({})
    assert not engines.configured
    with pytest.raises(FailedPrecondition):
        engines.resolve("")


def test_a_default_that_is_not_configured_stops_the_start() -> None:
    with pytest.raises(ValueError, match="ROUTEUR_TRANSCRIPTION_ENGINE"):
        TranscriptionEngines({"local": LOCAL_SCRIPT}, default_engine="openai")
