"""A model of the catalog, as every layer sees it: name, provider type, prices, aliases.

Shared by routing (which serves it), accounting (which prices it and estimates its
footprint) and the services; it lives in the domain so that none of them imports another
for it. The catalog file's layout is documented in `routing/models.toml`.
"""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field, model_validator

#: Provider types a catalog file may name. Remote ones are reached over HTTP; `local` runs in
#: this process. Models discovered at start from other in-process providers may carry
#: other types.
REMOTE_PROVIDER_TYPES = frozenset(
    {"openai", "openai_compatible", "mistral", "anthropic", "gemini", "ollama"}
)
PROVIDER_TYPES = REMOTE_PROVIDER_TYPES | {"local"}
#: Provider types whose models Routeur can offer tools to (the others refuse `tools`).
TOOL_CALLING_PROVIDERS = frozenset(
    {"openai", "openai_compatible", "mistral", "anthropic", "gemini"}
)

#: Provider names EcoLogits uses, by Routeur provider type (others: no emissions figure
#: unless the entry names `ecologits_provider` itself).
ECOLOGITS_PROVIDERS: Mapping[str, str] = {
    "openai": "openai",
    "mistral": "mistralai",
    "anthropic": "anthropic",
    "gemini": "google_genai",
}


class ModelEntry(BaseModel):
    """One model of the catalog."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1)
    provider: str = Field(min_length=1)
    upstream_model: str = ""
    description: str = ""
    context_window: int = Field(0, ge=0)
    supports_streaming: bool = True
    input_price_per_million: float = Field(ge=0)
    output_price_per_million: float = Field(ge=0)
    currency: str = Field("USD", min_length=3, max_length=3)
    aliases: tuple[str, ...] = ()
    ecologits_provider: str | None = None
    ecologits_model: str | None = None
    #: When no provider serving this model is configured, answer from its fallback chain
    #: (saying so) instead of refusing with FAILED_PRECONDITION. Off by default: asking for
    #: a model and silently getting another is not an honest answer.
    fallback_if_unconfigured: bool = False

    @model_validator(mode="after")
    def _defaults(self) -> ModelEntry:
        if not self.upstream_model:
            object.__setattr__(self, "upstream_model", self.name)
        object.__setattr__(self, "currency", self.currency.upper())
        return self

    @property
    def emissions_provider(self) -> str | None:
        """EcoLogits' provider name for this model, or None when it has no figure."""
        if self.ecologits_provider is not None:
            return self.ecologits_provider or None
        return ECOLOGITS_PROVIDERS.get(self.provider)

    @property
    def emissions_model(self) -> str:
        return self.ecologits_model or self.upstream_model
