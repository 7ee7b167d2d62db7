"""Building a provider from its `ProviderSpec` (the embedded local model is built by the
application, not here).

Each provider's module, and so its SDK, is imported when the first provider of its type is
built: a server only loads the SDKs it uses (Anthropic's alone takes about 40 MB and a
second to import).
"""

from __future__ import annotations

from routeur_grpc.domain.provider_spec import ProviderSpec
from routeur_grpc.providers.base import ChatProvider
from routeur_grpc.providers.token_count import TokenCounter


def build_provider(spec: ProviderSpec, token_counter: TokenCounter) -> ChatProvider:
    """The provider `spec` describes (not started: SDK clients connect lazily)."""
    key = spec.api_key.get_secret_value() if spec.api_key is not None else None
    timeouts = {"timeout_s": spec.timeout_s, "connect_timeout_s": spec.connect_timeout_s}
    if spec.type == "openai":
        from routeur_grpc.providers.openai_chat import OPENAI_BASE_URL, OpenAIChatProvider

        return OpenAIChatProvider(spec.name, api_key=key, base_url=spec.base_url or OPENAI_BASE_URL,
                                  token_counter=token_counter, **timeouts)
    if spec.type == "openai_compatible":
        from routeur_grpc.providers.openai_chat import openai_compatible

        # Its URL is required by the spec: there is no default server.
        return openai_compatible(spec.name, base_url=spec.base_url, api_key=key,
                                 token_counter=token_counter, **timeouts)
    if spec.type == "mistral":
        from routeur_grpc.providers.mistral import MISTRAL_SERVER_URL, MistralProvider

        return MistralProvider(spec.name, api_key=key,
                               server_url=spec.base_url or MISTRAL_SERVER_URL,
                               token_counter=token_counter, **timeouts)
    if spec.type == "anthropic":
        from routeur_grpc.providers.anthropic_messages import (
            ANTHROPIC_BASE_URL,
            AnthropicMessagesProvider,
        )

        return AnthropicMessagesProvider(spec.name, api_key=key,
                                         base_url=spec.base_url or ANTHROPIC_BASE_URL,
                                         token_counter=token_counter, **timeouts)
    if spec.type == "gemini":
        from routeur_grpc.providers.gemini import GEMINI_BASE_URL, GeminiProvider

        return GeminiProvider(spec.name, api_key=key, base_url=spec.base_url or GEMINI_BASE_URL,
                              token_counter=token_counter, **timeouts)
    from routeur_grpc.providers.ollama_chat import OLLAMA_LOCAL_URL, OllamaProvider

    return OllamaProvider(spec.name, base_url=spec.base_url or OLLAMA_LOCAL_URL, api_key=key,
                          token_counter=token_counter, **timeouts)
