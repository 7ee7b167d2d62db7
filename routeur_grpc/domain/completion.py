"""Completion domain types: what a caller asks for and what Routeur answers.

These are plain values, free of protobuf; `routeur_grpc.api.completion_convert` maps them to
and from the wire types.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

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


#: `tool` turns (a tool's result) carry the `tool_call_id` they answer; they come from agents
#: and from callers of the OpenAI-compatible API (whose own tools they are), never from
#: stored conversations or the native API's history.
Role = Literal["system", "user", "assistant", "tool"]
ROLES: frozenset[str] = frozenset({"system", "user", "assistant"})
#: The most tools a request may offer (OpenAI's limit).
MAX_TOOLS = 128


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """A tool a model may call: its name, what it does, and its JSON Schema parameters."""

    name: str
    description: str
    parameters: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ToolChoice:
    """Whether the model may, must or must not call a tool (OpenAI's `tool_choice`)."""

    mode: Literal["auto", "none", "required"] = "auto"
    #: With `required`: this tool, and no other.
    name: str = ""


AUTO_TOOL_CHOICE = ToolChoice()


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A model's request to call a tool; `arguments` is JSON text, as the model wrote it."""

    id: str
    name: str
    arguments: str


@dataclass(frozen=True, slots=True)
class ChatMessage:
    """One turn of a conversation.

    An assistant turn may carry the `tool_calls` it made; a `tool` turn answers one of them
    (`tool_call_id`, and the tool's `name`, which some providers want).
    """

    role: Role
    content: str
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str = ""
    name: str = ""


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


#: The most stop sequences a request may give (OpenAI's limit, which the others share or exceed).
MAX_STOP_SEQUENCES = 4


@dataclass(frozen=True, slots=True)
class Sampling:
    """How the model picks its tokens, beyond `temperature` and `max_tokens`.

    The OpenAI chat API's parameters of the same names; each provider sends them in its own
    format, and refuses (`InvalidArgument`) those its API has no equivalent for.
    """

    #: Nucleus sampling: only the tokens making up this much probability mass, 0 to 1.
    top_p: float | None = None
    #: The answer ends before the first of these texts (which is not part of it).
    stop: tuple[str, ...] = ()
    #: Asks for the same answer to the same request (best effort, as upstream APIs say).
    seed: int | None = None
    #: -2 to 2: positive values favour tokens not yet used, or used less often.
    presence_penalty: float | None = None
    frequency_penalty: float | None = None

    def given(self) -> list[str]:
        """The names of the parameters set, in a stable order (for messages and spans)."""
        names = ("top_p", "stop", "seed", "presence_penalty", "frequency_penalty")
        return [name for name in names if getattr(self, name) not in (None, ())]


NO_SAMPLING = Sampling()


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
    # Tools the model may call: an agent's, or the caller's own (OpenAI-compatible API),
    # whose calls then come back to the caller as `tool_calls` chunks.
    tools: tuple[ToolSpec, ...] = ()
    tool_choice: ToolChoice = AUTO_TOOL_CHOICE
    #: When the model has no configured provider, let its fallback chain answer instead.
    allow_fallback: bool = False
    sampling: Sampling = NO_SAMPLING

    def messages(self) -> list[ChatMessage]:
        """The whole prompt: the history, then the new user message.

        With no new message, the history is the whole prompt: an agent continuing a
        conversation after tool results (callers must send a message).
        """
        if not self.message and self.history:
            return list(self.history)
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
class AgentStep:
    """One step an agent's graph took (e.g. `prepare`, `answer`, `check`, `revise`)."""

    name: str
    model: str = ""  # the model called by this step, if any
    detail: str = ""  # what the step found, e.g. why a check failed


@dataclass(frozen=True, slots=True)
class SourceChunk:
    """A piece of a project document an answer was grounded in."""

    document_id: str
    offset: int  # first character of the chunk in the document's text
    length: int
    score: float  # higher is more relevant; comparable within one answer only
    title: str = ""


@dataclass(frozen=True, slots=True)
class ToolStep:
    """A tool an agent called, with what it was given and what it answered."""

    name: str
    arguments: str  # JSON text, as the model wrote it
    result: str
    error: bool = False


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
    # What an agent did to produce the answer (empty for a model called alone).
    steps: tuple[AgentStep, ...] = ()
    chunks: tuple[SourceChunk, ...] = ()
    tool_calls: tuple[ToolStep, ...] = ()


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
    tool_calls: tuple[ToolCall, ...] = ()  # tools the model asked to call (agents only)


@dataclass(frozen=True, slots=True)
class CompletionResult:
    """A whole (non-streamed) completion."""

    response: str
    model: str
    agent: str
    usage: TokenUsage
    metadata: CompletionMetadata
    #: The tools the model asked to call, when the caller offered its own.
    tool_calls: tuple[ToolCall, ...] = ()
