"""The model catalog: which models exist, who serves them, their context window and prices.

Read from `models.toml` beside this module, then merged with an optional operator file of the
same layout (see the comments at the top of `models.toml`). Besides the models, the file holds
the fallback chains and explicit deployments the router uses (`RoutingTable` in
`deployments.py` reads those from `CatalogFile`).
"""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from routeur_grpc.domain.model_entry import (
    ECOLOGITS_PROVIDERS,
    PROVIDER_TYPES,
    REMOTE_PROVIDER_TYPES,
    ModelEntry,
)
from routeur_grpc.errors import InvalidArgument

__all__ = [
    "ECOLOGITS_PROVIDERS",
    "PROVIDER_TYPES",
    "REMOTE_PROVIDER_TYPES",
    "CatalogError",
    "CatalogFile",
    "DeploymentSpec",
    "ModelCatalog",
    "ModelEntry",
    "load_catalog_file",
]

BUILTIN_CATALOG = Path(__file__).with_name("models.toml")

class CatalogError(ValueError):
    """The catalog file is unreadable or inconsistent; the message says where."""


class DeploymentSpec(BaseModel):
    """Where a model is served: a configured provider instance, with a weight."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    model: str
    provider: str = Field(min_length=1, description="Name of a configured provider instance.")
    upstream_model: str = ""
    weight: float = Field(1.0, gt=0)


class CatalogFile(BaseModel):
    """The parsed contents of a catalog file (built-in, or merged with an override)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    models: tuple[ModelEntry, ...] = ()
    fallbacks: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    deployments: tuple[DeploymentSpec, ...] = ()

    @model_validator(mode="after")
    def _known_provider_types(self) -> CatalogFile:
        for entry in self.models:
            if entry.provider not in PROVIDER_TYPES:
                raise ValueError(
                    f"model {entry.name}: unknown provider type '{entry.provider}' "
                    f"(one of {', '.join(sorted(PROVIDER_TYPES))})"
                )
        return self


def _read(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except OSError as error:
        raise CatalogError(f"{path}: cannot read the catalog file ({error.strerror})") from None
    except tomllib.TOMLDecodeError as error:
        raise CatalogError(f"{path}: not valid TOML ({error})") from None


def _merge(base: dict[str, Any], override: dict[str, Any], path: Path) -> dict[str, Any]:
    unknown = set(override) - {"models", "fallbacks", "deployments"}
    if unknown:
        raise CatalogError(f"{path}: unknown section(s) {sorted(unknown)}")
    models = {m["name"]: dict(m) for m in base.get("models", [])}
    for entry in override.get("models", []):
        name = entry.get("name")
        if not name:
            raise CatalogError(f"{path}: a [[models]] entry has no name")
        enabled = entry.pop("enabled", True)
        if not enabled:
            models.pop(name, None)
        elif name in models:
            models[name].update(entry)
        else:
            models[name] = dict(entry)
    fallbacks = {**base.get("fallbacks", {}), **override.get("fallbacks", {})}
    deployments = list(override.get("deployments", [])) or list(base.get("deployments", []))
    return {"models": list(models.values()), "fallbacks": fallbacks, "deployments": deployments}


def load_catalog_file(override: Path | None = None, builtin: Path = BUILTIN_CATALOG) -> CatalogFile:
    """The built-in catalog, merged with `override` when given."""
    raw = _read(builtin)
    source = builtin
    if override is not None:
        raw = _merge(raw, _read(override), override)
        source = override
    try:
        parsed = CatalogFile.model_validate(raw)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors()
        )
        raise CatalogError(f"{source}: {problems}") from None
    ModelCatalog(parsed.models)  # checks that names and aliases are unique
    return parsed


class ModelCatalog:
    """Looks models up by name or alias."""

    def __init__(self, entries: Iterable[ModelEntry]) -> None:
        self._entries: dict[str, ModelEntry] = {}
        self._names: dict[str, ModelEntry] = {}
        for entry in entries:
            self._entries[entry.name] = entry
            for name in (entry.name, *entry.aliases):
                other = self._names.get(name)
                if other is not None and other.name != entry.name:
                    raise CatalogError(
                        f"the name '{name}' is used by both '{other.name}' and '{entry.name}'"
                    )
                self._names[name] = entry

    @classmethod
    def load(cls, override: Path | None = None) -> ModelCatalog:
        return cls(load_catalog_file(override).models)

    def __contains__(self, name: object) -> bool:
        return name in self._names

    def __len__(self) -> int:
        return len(self._entries)

    def entries(self) -> list[ModelEntry]:
        """Every model, in catalog order."""
        return list(self._entries.values())

    def get(self, name: str) -> ModelEntry | None:
        return self._names.get(name)

    def resolve(self, name: str) -> ModelEntry:
        """The entry named `name` (or aliased so), else INVALID_ARGUMENT naming it."""
        entry = self._names.get(name)
        if entry is not None:
            return entry
        close = difflib.get_close_matches(name, self._names, n=3, cutoff=0.6)
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise InvalidArgument(
            f"Unknown model '{name}'.{hint} Call ListModels to see the models available.",
            reason="UNKNOWN_MODEL",
            metadata={"model": name},
        )

    def names(self) -> Sequence[str]:
        return list(self._entries)
