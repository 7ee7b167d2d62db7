"""Building a provider from its `ProviderSpec` (the embedded local model is built by the
application, not here)."""

from __future__ import annotations

from routeur_grpc.providers.anthropic_messages import ANTHROPIC_BASE_URL, AnthropicMessagesProvider
from routeur_grpc.providers.base import ChatProvider
from routeur_grpc.providers.gemini import GEMINI_BASE_URL, GeminiProvider
from routeur_grpc.providers.mistral import MISTRAL_SERVER_URL, MistralProvider
from routeur_grpc.providers.ollama_chat import OLLAMA_LOCAL_URL, OllamaProvider
from routeur_grpc.providers.openai_chat import (
    OPENAI_BASE_URL,
    OpenAIChatProvider,
    openai_compatible,
)
from routeur_grpc.providers.token_count import TokenCounter
from routeur_grpc.domain.provider_spec import ProviderSpec

DEFAULT_BASE_URLS: dict[str, str] = {
    "openai": OPENAI_BASE_URL,
    "mistral": MISTRAL_SERVER_URL,
    "anthropic": ANTHROPIC_BASE_URL,
    "gemini": GEMINI_BASE_URL,
    "ollama": OLLAMA_LOCAL_URL,
}


def build_provider(spec: ProviderSpec, token_counter: TokenCounter) -> ChatProvider:
    """The provider `spec` describes (not started: SDK clients connect lazily)."""
    key = spec.api_key.get_secret_value() if spec.api_key is not None else None
    url = spec.base_url or DEFAULT_BASE_URLS[spec.type]
    if spec.type == "openai":
        return OpenAIChatProvider(
            spec.name, api_key=key, base_url=url, timeout_s=spec.timeout_s,
            connect_timeout_s=spec.connect_timeout_s, token_counter=token_counter
        )
    if spec.type == "openai_compatible":
        return openai_compatible(
            spec.name, base_url=url, api_key=key, timeout_s=spec.timeout_s,
            connect_timeout_s=spec.connect_timeout_s, token_counter=token_counter
        )
    if spec.type == "mistral":
        return MistralProvider(
            spec.name, api_key=key, server_url=url, timeout_s=spec.timeout_s,
            connect_timeout_s=spec.connect_timeout_s, token_counter=token_counter
        )
    if spec.type == "anthropic":
        return AnthropicMessagesProvider(
            spec.name, api_key=key, base_url=url, timeout_s=spec.timeout_s,
            connect_timeout_s=spec.connect_timeout_s, token_counter=token_counter
        )
    if spec.type == "gemini":
        return GeminiProvider(
            spec.name, api_key=key, base_url=url, timeout_s=spec.timeout_s,
            connect_timeout_s=spec.connect_timeout_s, token_counter=token_counter
        )
    return OllamaProvider(
        spec.name, base_url=url, api_key=key, timeout_s=spec.timeout_s,
            connect_timeout_s=spec.connect_timeout_s, token_counter=token_counter
    )
