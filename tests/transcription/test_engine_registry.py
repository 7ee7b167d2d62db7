"""Which engine answers for which model name."""

from __future__ import annotations

import pytest

from routeur_grpc.errors import FailedPrecondition, InvalidArgument
from routeur_grpc.services.transcription_engines import EngineRegistry

from .scripted_engine import ScriptedEngine

LOCAL = ScriptedEngine("local", ("whisper-base", "whisper-tiny.en"))
OPENAI = ScriptedEngine("openai", ("whisper-1", "gpt-4o-transcribe"))
REGISTRY = EngineRegistry({"local": LOCAL, "openai": OPENAI}, meeting_default="openai")


@pytest.mark.parametrize(
    ("asked", "engine", "model"),
    [
        ("", LOCAL, "whisper-base"),
        ("whisper-1", OPENAI, "whisper-1"),
        ("openai/gpt-4o-transcribe", OPENAI, "gpt-4o-transcribe"),
        ("openai", OPENAI, "whisper-1"),
        ("whisper-tiny.en", LOCAL, "whisper-tiny.en"),
    ],
)
def test_a_model_name_finds_its_engine(asked, engine, model):
    assert REGISTRY.resolve(asked) == (engine, model)


def test_meetings_have_their_own_default():
    assert REGISTRY.resolve("", meeting=True) == (OPENAI, "whisper-1")


def test_an_unknown_model_lists_the_known_ones():
    with pytest.raises(InvalidArgument) as caught:
        REGISTRY.resolve("whisper-9")
    assert "whisper-base" in caught.value.message and "gpt-4o-transcribe" in caught.value.message
    assert not REGISTRY.serves("whisper-9")


def test_no_engine_is_a_failed_precondition():
    with pytest.raises(FailedPrecondition):
        EngineRegistry({}).resolve("")


def test_a_default_that_is_not_configured_stops_the_start():
    with pytest.raises(ValueError, match="ROUTEUR_TRANSCRIPTION"):
        EngineRegistry({"local": LOCAL}, default="openai")
