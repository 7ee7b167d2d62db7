"""Providers as administrators see and change them, free of protobuf and of secrets.

A `ProviderView` never holds an API key, only its masked form. A `ProviderInput` holds
what an admin typed, key included, on its way to being validated and encrypted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class ProviderOptions:
    """Generation defaults of a provider (None: not set)."""

    temperature: float | None = None
    max_tokens: int | None = None
    timeout_s: float | None = None


@dataclass(frozen=True, slots=True)
class ProviderView:
    """A provider as listed: stored (changeable) or from the configuration file (read-only)."""

    provider_id: str
    provider_type: str
    name: str
    api_key_masked: str
    base_url: str
    model: str
    options: ProviderOptions
    enabled: bool
    create_time: datetime | None
    update_time: datetime | None
    read_only: bool = False
    models: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ProviderInput:
    """A provider to create, or the new values of one to update.

    `fields` names the fields an update changes (all writable ones when empty); `api_key`
    None keeps the stored key, "" removes it.
    """

    provider_type: str = ""
    name: str = ""
    api_key: str | None = None
    base_url: str = ""
    model: str = ""
    options: ProviderOptions = ProviderOptions()
    enabled: bool = True
    fields: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True, slots=True)
class ProviderTestResult:
    """What a test prompt found."""

    ok: bool
    message: str
    model: str
    latency_s: float
    response_excerpt: str
    models: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ProviderSyncResult:
    provider_id: str
    name: str
    ok: bool
    models: tuple[str, ...]
    message: str = ""


@dataclass(frozen=True, slots=True)
class InstalledModel:
    """A model installed on an Ollama server."""

    name: str
    size_bytes: int
    digest: str
    modified_at: datetime | None
    parameter_size: str
    family: str


@dataclass(frozen=True, slots=True)
class PullStep:
    """One step of an Ollama model download."""

    status: str
    digest: str
    total_bytes: int
    completed_bytes: int

    @property
    def percent(self) -> float:
        return 100.0 * self.completed_bytes / self.total_bytes if self.total_bytes else 0.0
