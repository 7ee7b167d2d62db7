"""Models as Routeur offers them: name, provider, capabilities, price, availability."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ModelPrice:
    """Price per million tokens."""

    currency: str
    input_per_million: float
    output_per_million: float


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """A model a completion can name."""

    name: str
    provider: str
    description: str = ""
    context_window: int = 0
    supports_streaming: bool = True
    available: bool = True
    aliases: tuple[str, ...] = ()
    price: ModelPrice | None = None
