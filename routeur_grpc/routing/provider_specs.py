"""Remote provider instances as configuration describes them.

A `ProviderSpec` names one instance (`openai`, `openai-eu`, `ollama_cloud`, …) of a provider
type, with its endpoint and key. The settings hold a list of them;
`routing.provider_factory.build_provider` turns one into a `ChatProvider`. This module
imports no SDK, so that reading the settings stays fast.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

RemoteProviderType = Literal[
    "openai", "openai_compatible", "mistral", "anthropic", "gemini", "ollama"
]


class ProviderSpec(BaseModel):
    """One configured provider instance."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, description="Unique instance name, used by deployments.")
    type: RemoteProviderType
    base_url: str = Field("", description="Endpoint; default: the provider's public API.")
    api_key: SecretStr | None = Field(None, description="Key sent to the provider, if any.")
    enabled: bool = True
    timeout_s: float = Field(600.0, gt=0, description="Per-attempt HTTP timeout, seconds.")

    @model_validator(mode="after")
    def _compatible_servers_need_a_url(self) -> ProviderSpec:
        if self.type == "openai_compatible" and not self.base_url:
            raise ValueError(
                f"provider {self.name}: an openai_compatible provider needs base_url "
                "(e.g. http://127.0.0.1:8000/v1)"
            )
        return self
