"""Remote provider instances as configuration describes them.

A `ProviderSpec` names one instance (`openai`, `openai-eu`, `ollama_cloud`, …) of a provider
type, with its endpoint, key and timeouts. The settings hold a list of them;
`routing.provider_factory.build_provider` turns one into a `ChatProvider`. This module
imports no SDK, so that reading the settings stays fast.

Timeouts (defaults sized for hosted chat models; see the README's "Timeouts"):
- `connect_timeout_s` (5 s): opening the TCP/TLS connection; a dead host fails fast.
- `first_token_timeout_s` (60 s): from sending the request to the first piece of text; a
  hung upstream is abandoned (and retried elsewhere) instead of holding the call.
- `between_tokens_timeout_s` (30 s): the longest silence once text flows; a stalled or
  dribbling (slow-loris) stream ends with an error instead of hanging.
- `timeout_s` (600 s): the SDK's overall HTTP timeout, a last resort behind the others.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

RemoteProviderType = Literal[
    "openai", "openai_compatible", "mistral", "anthropic", "gemini", "ollama"
]

DEFAULT_CONNECT_TIMEOUT_S = 5.0
DEFAULT_FIRST_TOKEN_TIMEOUT_S = 60.0
DEFAULT_BETWEEN_TOKENS_TIMEOUT_S = 30.0


class ProviderSpec(BaseModel):
    """One configured provider instance."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, description="Unique instance name, used by deployments.")
    type: RemoteProviderType
    base_url: str = Field("", description="Endpoint; default: the provider's public API.")
    api_key: SecretStr | None = Field(None, description="Key sent to the provider, if any.")
    enabled: bool = True
    timeout_s: float = Field(600.0, gt=0, description="Per-attempt HTTP timeout, seconds.")
    connect_timeout_s: float = Field(
        DEFAULT_CONNECT_TIMEOUT_S, gt=0, description="Opening a connection, seconds."
    )
    first_token_timeout_s: float = Field(
        DEFAULT_FIRST_TOKEN_TIMEOUT_S, gt=0, description="Request sent to first text, seconds."
    )
    between_tokens_timeout_s: float = Field(
        DEFAULT_BETWEEN_TOKENS_TIMEOUT_S, gt=0, description="Longest silence mid-answer, seconds."
    )

    @model_validator(mode="after")
    def _compatible_servers_need_a_url(self) -> ProviderSpec:
        if self.type == "openai_compatible" and not self.base_url:
            raise ValueError(
                f"provider {self.name}: an openai_compatible provider needs base_url "
                "(e.g. http://127.0.0.1:8000/v1)"
            )
        return self
