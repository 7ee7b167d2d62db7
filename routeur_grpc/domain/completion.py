"""Completion domain types: what a caller asks for and what Routeur answers.

These are plain values, free of protobuf; `routeur_grpc.api.completion_convert` maps them to
and from the wire types.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from routeur_grpc.errors import RouteurError

#: Money is rounded to this many decimals of the currency unit (1e-12: far below the price of
#: one token, so nothing real is lost; float noise such as 3.7840000000000004e-05 is).
MONEY_DECIMALS = 12
#: Carbon, energy, water and their equivalences keep this many significant digits: the
#: estimates behind them are uncertain by tens of percent (see accounting/emissions.py),
#: so more digits would only be noise.
FOOTPRINT_SIGNIFICANT_DIGITS = 4


def round_money(amount: float) -> float:
    """`amount` rounded to `MONEY_DECIMALS`."""
    return round(amount, MONEY_DECIMALS)


def round_footprint(value: float) -> float:
    """`value` rounded to `FOOTPRINT_SIGNIFICANT_DIGITS` significant digits."""
    return float(f"{value:.{FOOTPRINT_SIGNIFICANT_DIGITS}g}")


Role = Literal["system", "user", "assistant"]
ROLES: frozenset[str] = frozenset({"system", "user", "assistant"})


@dataclass(frozen=True, slots=True)
class ChatMessage:
    """One turn of a conversation."""

    role: Role
    content: str


@dataclass(frozen=True, slots=True)
class TokenUsage:
    """Tokens read and written by a model for one request."""

    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def __add__(self, other: TokenUsage) -> TokenUsage:
        return TokenUsage(
            self.prompt_tokens + other.prompt_tokens,
            self.completion_tokens + other.completion_tokens,
        )


@dataclass(frozen=True, slots=True)
class CompletionRequest:
    """A request for a completion, validated by `services.completion`."""

    message: str
    model: str
    agent: str = ""
    temperature: float | None = None
    max_tokens: int | None = None
    history: tuple[ChatMessage, ...] = ()
    conversation_id: str = ""
    project_id: str = ""
    sources: tuple[str, ...] = ()
    #: When the model has no configured provider, let its fallback chain answer instead.
    allow_fallback: bool = False

    def messages(self) -> list[ChatMessage]:
        """The whole prompt: the history, then the new user message."""
        return [*self.history, ChatMessage("user", self.message)]


@dataclass(frozen=True, slots=True)
class ModelCost:
    """What one model cost for one request, in the response's currency."""

    input: float
    output: float

    @property
    def total(self) -> float:
        return round_money(self.input + self.output)


@dataclass(frozen=True, slots=True)
class Pricing:
    currency: str
    by_model: dict[str, ModelCost] = field(default_factory=dict)

    @property
    def total_cost(self) -> float:
        return round_money(sum(cost.total for cost in self.by_model.values()))


@dataclass(frozen=True, slots=True)
class Equivalences:
    """Everyday equivalents of a carbon footprint (factors documented where computed)."""

    water_liters: float
    car_km: float
    tgv_km: float
    smartphone_charges: float


@dataclass(frozen=True, slots=True)
class AttemptNote:
    """One upstream attempt made for a request: which model, where, and how it ended."""

    model: str
    provider: str  # the provider instance tried
    error_reason: str = ""  # the ErrorInfo reason of its failure; empty when it answered


@dataclass(frozen=True, slots=True)
class CompletionMetadata:
    """Accounting for one completion (the `metadata` of the CAPL Routeur IA API's answers).

    `requested_model` and `fallback_reason` are set when another model than the one asked
    for answered; `attempts` lists every upstream attempt; `cache_hit` marks an answer
    served from the response cache (no new cost).
    """

    model: str
    agent: str = ""
    requested_model: str = ""
    fallback_reason: str = ""
    attempts: tuple[AttemptNote, ...] = ()
    cache_hit: bool = False
    message_count: int = 0
    latency_s: float = 0.0
    usage: TokenUsage = TokenUsage()
    usage_by_model: dict[str, TokenUsage] = field(default_factory=dict)
    emissions_kg_co2eq: float | None = None
    energy_kwh: float | None = None
    pricing: Pricing | None = None
    equivalences: Equivalences | None = None


@dataclass(frozen=True, slots=True)
class CompletionChunk:
    """One piece of a streamed completion.

    The last chunk has `done=True` and the full metadata. A failure after the first chunk is
    reported by a last chunk carrying `error`, since over HTTP/1.1 the status alone would be
    invisible to the client.
    """

    content: str = ""
    done: bool = False
    metadata: CompletionMetadata | None = None
    error: RouteurError | None = None


@dataclass(frozen=True, slots=True)
class CompletionResult:
    """A whole (non-streamed) completion."""

    response: str
    model: str
    agent: str
    usage: TokenUsage
    metadata: CompletionMetadata
