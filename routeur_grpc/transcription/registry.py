"""The configured speech-to-text engines, and which one answers for a model name.

`build_engines(settings)` makes the local engine (unless disabled) and one remote engine
per enabled provider of type openai, mistral or openai_compatible: a provider's key serves
chat and audio alike. The default engine is the one named by `transcription_engine`, else
the first OpenAI provider, else the first Mistral one, else the local engine: with no key
and no network, transcription still works. An OpenAI-compatible server is never chosen by
default, since many serve chat only; name it to use it.

A model is resolved by its name across engines (the default engine first), or as
`engine/model` to pick one of two engines offering the same model (`openai-eu/whisper-1`);
the local model's own name already has that form (`local/whisper-base`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import NamedTuple

from routeur_grpc.domain.provider_spec import ProviderSpec
from routeur_grpc.errors import FailedPrecondition, InvalidArgument
from routeur_grpc.settings import Settings, SettingsError
from routeur_grpc.transcription.engine import TranscriptionEngine
from routeur_grpc.transcription.local_whisper import LocalWhisperConfig, LocalWhisperEngine
from routeur_grpc.transcription.model_files import bundled_source, directory_source
from routeur_grpc.transcription.remote import RemoteLimits

log = logging.getLogger(__name__)

LOCAL_ENGINE = "local"
#: The model meetings use when the default engine offers it (as OpenAI's API shows).
MEETING_MODEL = "gpt-4o-transcribe"
_AUDIO_PROVIDER_TYPES = ("openai", "mistral", "openai_compatible")
_DEFAULT_MODELS_BY_TYPE: Mapping[str, tuple[str, ...]] = {
    "openai": ("whisper-1", "gpt-4o-transcribe", "gpt-4o-mini-transcribe"),
    "mistral": ("voxtral-mini-latest",),
    "openai_compatible": ("whisper-1",),
}


class ResolvedModel(NamedTuple):
    """The engine that answers a requested name, and the exact model it will use."""

    engine: TranscriptionEngine
    model: str


class TranscriptionEngines:
    """Every configured engine by name, the default one, and the model → engine lookup.

    The one registry of speech-to-text engines: `build_engines` fills it from the settings,
    tests give it scripted engines, and the transcription services only look engines up in
    it. With no engine at all it still exists, and answers FAILED_PRECONDITION when asked.
    """

    def __init__(
        self,
        engines: Mapping[str, TranscriptionEngine],
        default_engine: str = "",
        default_model: str = "",
        meeting_model: str = "",
    ) -> None:
        """`default_engine` empty: the first engine; `default_model` empty: the default
        engine's first model; `meeting_model` empty: the default model."""
        self._engines = dict(engines)
        if default_engine and default_engine not in self._engines:
            raise ValueError(
                f"the default transcription engine {default_engine!r} is not configured "
                f"(engines: {', '.join(self._engines) or 'none'}); see ROUTEUR_TRANSCRIPTION_ENGINE"
            )
        self._default = default_engine or next(iter(self._engines), "")
        offered = self._engines[self._default].models if self._engines else ()
        self._default_model = default_model or (offered[0] if offered else "")
        if self._engines and offered and self._default_model not in offered:
            raise ValueError(
                f"transcription_model {self._default_model!r} is not offered by the engine "
                f"{self._default!r} ({', '.join(offered)})"
            )
        self._meeting_model = meeting_model if meeting_model in offered else self._default_model

    @property
    def configured(self) -> bool:
        """Whether any engine can answer."""
        return bool(self._engines)

    @property
    def default_name(self) -> str:
        """The default engine's name ("" when none is configured)."""
        return self._default

    @property
    def default_model(self) -> str:
        return self._default_model

    @property
    def meeting_model(self) -> str:
        """The model a meeting transcription uses when the caller names none."""
        return self._meeting_model

    @property
    def engines(self) -> Mapping[str, TranscriptionEngine]:
        return self._engines

    def default_engine(self, meeting: bool = False) -> TranscriptionEngine:
        """The engine that answers when no model is named; FAILED_PRECONDITION without one.

        `meeting` is accepted so callers ask the same question they ask `resolve`; meetings
        use the default engine too (only their default model may differ).
        """
        if not self._engines:
            raise FailedPrecondition(
                "No speech-to-text engine is configured on this server.",
                reason="NO_TRANSCRIPTION_ENGINE",
            )
        return self._engines[self._default]

    def engine(self, name: str) -> TranscriptionEngine:
        try:
            return self._engines[name]
        except KeyError:
            raise InvalidArgument(
                f"No transcription engine is named '{name}'; configured: "
                f"{', '.join(self._engines)}."
            ) from None

    def model_names(self) -> list[str]:
        """Every model name a caller may ask for, the default engine's first."""
        names: list[str] = []
        for engine in self._ordered():
            names.extend(model for model in engine.models if model not in names)
        return names

    def resolve(self, model: str = "", meeting: bool = False) -> ResolvedModel:
        """The engine and the exact model for a requested name (empty: the default).

        A model name is looked up in every engine, the default first; `engine/model` picks
        one engine's model; an engine's name alone means its default model.
        """
        default = self.default_engine(meeting)
        if not model:
            return ResolvedModel(default, self._meeting_model if meeting else self._default_model)
        for engine in self._ordered():
            if model in engine.models:
                return ResolvedModel(engine, model)
        prefix, _, rest = model.partition("/")
        engine = self._engines.get(prefix)
        if engine is not None and rest in engine.models:
            return ResolvedModel(engine, rest)
        if model in self._engines:
            named = self._engines[model]
            if named is default:
                return ResolvedModel(named, self._default_model)
            return ResolvedModel(named, named.models[0] if named.models else "")
        raise InvalidArgument(
            f"'{model[:100]}' is not a transcription model offered here; use one of "
            f"{', '.join(self.model_names())}, or leave it empty for the default.",
            reason="UNKNOWN_MODEL",
            metadata={"model": model[:100]},
        )

    def serves(self, model: str) -> bool:
        """Whether `resolve(model)` would find an engine."""
        try:
            self.resolve(model)
        except (InvalidArgument, FailedPrecondition):
            return False
        return True

    async def start(self) -> None:
        """Load what takes time (the local model), so the first request does not wait."""
        local = self._engines.get(LOCAL_ENGINE)
        if isinstance(local, LocalWhisperEngine):
            await local.start()

    async def aclose(self) -> None:
        results = await asyncio.gather(
            *(engine.aclose() for engine in self._engines.values()), return_exceptions=True
        )
        for name, result in zip(self._engines, results, strict=True):
            if isinstance(result, BaseException):
                log.warning("closing transcription engine %s failed: %s", name, type(result).__name__)

    def _ordered(self) -> list[TranscriptionEngine]:
        if not self._engines:
            return []
        default = self._engines[self._default]
        return [default, *(e for e in self._engines.values() if e is not default)]


def local_engine_config(settings: Settings) -> LocalWhisperConfig:
    """The local engine's configuration, from the settings."""
    if settings.transcription_local_model_dir is not None:
        source = directory_source(settings.transcription_local_model_dir)
        default_name = f"{LOCAL_ENGINE}/{settings.transcription_local_model_dir.name}"
    else:
        source = bundled_source(settings.transcription_local_model)
        default_name = f"{LOCAL_ENGINE}/whisper-{settings.transcription_local_model}"
    return LocalWhisperConfig(
        source=source,
        name=LOCAL_ENGINE,
        model_name=settings.transcription_local_model_name or default_name,
        compute_type=settings.transcription_local_compute_type,
        threads=settings.transcription_local_threads,
        concurrency=settings.transcription_local_concurrency,
        beam_size=settings.transcription_local_beam_size,
        batched=settings.transcription_local_batched,
        batch_size=settings.transcription_local_batch_size,
        vad_filter=settings.transcription_local_vad,
        max_piece_s=settings.transcription_local_max_piece_s,
    )


def remote_engine(
    spec: ProviderSpec, settings: Settings, max_retries: int | None = None
) -> TranscriptionEngine:
    """The transcription engine of a provider entry of type openai, mistral or openai_compatible.
    Each SDK is imported only for an entry of its type (the Mistral SDK: 6 MB of a server)."""
    key = spec.api_key.get_secret_value() if spec.api_key is not None else None
    models = tuple(
        settings.transcription_models.get(spec.name) or _DEFAULT_MODELS_BY_TYPE[spec.type]
    )
    limits = RemoteLimits(
        max_upload_bytes=int(settings.transcription_remote_max_upload_mb * 1_000_000),
        max_piece_s=settings.transcription_remote_max_piece_s,
    )
    retries = max(0, settings.retry_max_attempts - 1) if max_retries is None else max_retries
    if spec.type == "mistral":
        from routeur_grpc.transcription.mistral_engine import (
            MISTRAL_SERVER_URL,
            MistralTranscriptionEngine,
        )

        return MistralTranscriptionEngine(
            spec.name, api_key=key, server_url=spec.base_url or MISTRAL_SERVER_URL,
            models=models, limits=limits, timeout_s=spec.timeout_s, max_retries=retries,
        )
    from routeur_grpc.transcription.openai_engine import OPENAI_BASE_URL, OpenAITranscriptionEngine

    return OpenAITranscriptionEngine(
        spec.name, api_key=key, base_url=spec.base_url or OPENAI_BASE_URL, models=models,
        limits=limits, timeout_s=spec.timeout_s, max_retries=retries,
    )


def build_engines(settings: Settings) -> TranscriptionEngines:
    """Every transcription engine the settings describe (the local model loads on `start`)."""
    engines: dict[str, TranscriptionEngine] = {}
    if settings.transcription_local_enabled:
        engines[LOCAL_ENGINE] = LocalWhisperEngine(local_engine_config(settings))
    audio_specs = [
        spec for spec in settings.providers
        if spec.enabled and spec.type in _AUDIO_PROVIDER_TYPES
    ]
    for spec in audio_specs:
        if spec.name == LOCAL_ENGINE:
            raise SettingsError(
                f"providers: the name '{LOCAL_ENGINE}' is reserved for the local transcription engine"
            )
        engines[spec.name] = remote_engine(spec, settings)
    default = settings.transcription_engine or _default_engine(audio_specs, engines)
    if default not in engines:
        raise SettingsError(
            f"transcription_engine '{default}' is not a configured engine; configured: "
            f"{', '.join(engines) or 'none (enable the local engine or add a provider)'}."
        )
    meeting_model = settings.transcription_meeting_model or (
        MEETING_MODEL if MEETING_MODEL in engines[default].models else ""
    )
    try:
        return TranscriptionEngines(engines, default, settings.transcription_model, meeting_model)
    except ValueError as error:
        raise SettingsError(str(error)) from None


def _default_engine(specs: list[ProviderSpec], engines: Mapping[str, TranscriptionEngine]) -> str:
    for wanted in ("openai", "mistral"):
        for spec in specs:
            if spec.type == wanted:
                return spec.name
    return LOCAL_ENGINE if LOCAL_ENGINE in engines else next(iter(engines), LOCAL_ENGINE)
