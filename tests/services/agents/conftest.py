"""The agents' end-to-end tests run on the providers' fixtures: the real server over the fakes."""

from providers.conftest import (  # noqa: F401 - fixtures
    anthropic_upstream,
    e2e,
    fake_anthropic,
    fake_gemini,
    fake_mistral,
    fake_ollama,
    fake_openai,
    gemini_upstream,
    mistral_upstream,
    ollama_upstream,
    openai_upstream,
    token_counter,
)
