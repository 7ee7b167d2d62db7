"""Which speech-to-text engine answers for which model.

The engines themselves (local faster-whisper, OpenAI, Mistral, OpenAI-compatible servers)
are built from the settings elsewhere; the service only needs to find the one that serves
a requested model, or the default one. `EngineRegistry` is that lookup, over any mapping
of engine name → engine, so wiring it is one line.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from routeur_grpc.errors import FailedPrecondition, InvalidArgument
from routeur_grpc.transcription.engine import TranscriptionEngine


@dataclass(frozen=True)
class EngineRegistry:
    """Configured engines by name; `default` answers when no model is named.

    `meeting_default` is the engine for meetings when the caller names no model (the
    default engine when empty).
    """

    engines: Mapping[str, TranscriptionEngine]
    default: str = ""
    meeting_default: str = ""
    default_model: str = ""  # of the default engine; empty: its first model
    meeting_model: str = ""  # e.g. gpt-4o-transcribe; empty: the default model

    def __post_init__(self) -> None:
        for setting, name in (("default", self.default), ("meeting", self.meeting_default)):
            if name and name not in self.engines:
                raise ValueError(
                    f"the {setting} transcription engine {name!r} is not configured (engines: "
                    f"{', '.join(self.engines) or 'none'}); see ROUTEUR_TRANSCRIPTION_ENGINE"
                )

    @property
    def configured(self) -> bool:
        return bool(self.engines)

    def default_engine(self, meeting: bool = False) -> TranscriptionEngine:
        if not self.engines:
            raise FailedPrecondition(
                "No speech-to-text engine is configured on this server.",
                reason="NO_TRANSCRIPTION_ENGINE",
            )
        name = (self.meeting_default if meeting else "") or self.default
        return self.engines[name] if name else next(iter(self.engines.values()))

    def resolve(self, model: str, meeting: bool = False) -> tuple[TranscriptionEngine, str]:
        """The engine serving `model` ("" for the default) and the model it will use.

        `engine/model` names one engine's model; a bare model name is looked up in every
        engine, the default first; an engine's name alone means its default model.
        """
        default = self.default_engine(meeting)
        if not model:
            wanted = (self.meeting_model if meeting else "") or self.default_model
            if wanted in default.models:
                return default, wanted
            return default, default.models[0] if default.models else ""
        if model in self.engines:
            engine = self.engines[model]
            return engine, engine.models[0] if engine.models else ""
        prefix, _, rest = model.partition("/")
        if rest and prefix in self.engines and rest in self.engines[prefix].models:
            return self.engines[prefix], rest
        for engine in (default, *self.engines.values()):
            if model in engine.models:
                return engine, model
        raise InvalidArgument(
            f"Unknown transcription model {model!r}: use one of {', '.join(self.model_names())}, "
            "or leave it empty for the default.",
            reason="UNKNOWN_MODEL",
            metadata={"model": model[:100]},
        )

    def serves(self, model: str) -> bool:
        try:
            self.resolve(model)
        except InvalidArgument:
            return False
        return True

    def model_names(self) -> list[str]:
        return [model for engine in self.engines.values() for model in engine.models]
