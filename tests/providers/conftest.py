"""Fixtures for the provider, routing and accounting tests.

One fake upstream per wire protocol is started once per session (real HTTP on 127.0.0.1,
port 0) and reset before each test; providers are built per test against them, through the
real SDKs.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fakes import FakeAnthropic, FakeGemini, FakeMistral, FakeOllama, FakeOpenAI, FakeUpstream
from support import RunningServer, open_channel, server_settings, start_server

from routeur_grpc.providers.anthropic_messages import AnthropicMessagesProvider
from routeur_grpc.providers.gemini import GeminiProvider
from routeur_grpc.providers.mistral import MistralProvider
from routeur_grpc.providers.ollama_chat import OllamaProvider
from routeur_grpc.providers.openai_chat import OpenAIChatProvider
from routeur_grpc.providers.token_count import TokenCounter


@pytest.fixture(scope="session")
def token_counter() -> TokenCounter:
    return TokenCounter()


async def _session_fake(fake: FakeUpstream) -> AsyncIterator[FakeUpstream]:
    await fake.start()
    try:
        yield fake
    finally:
        await fake.stop()


@pytest.fixture(scope="session")
async def openai_upstream() -> AsyncIterator[FakeUpstream]:
    async for fake in _session_fake(FakeOpenAI()):
        yield fake


@pytest.fixture(scope="session")
async def mistral_upstream() -> AsyncIterator[FakeUpstream]:
    async for fake in _session_fake(FakeMistral()):
        yield fake


@pytest.fixture(scope="session")
async def anthropic_upstream() -> AsyncIterator[FakeUpstream]:
    async for fake in _session_fake(FakeAnthropic()):
        yield fake


@pytest.fixture(scope="session")
async def gemini_upstream() -> AsyncIterator[FakeUpstream]:
    async for fake in _session_fake(FakeGemini()):
        yield fake


@pytest.fixture(scope="session")
async def ollama_upstream() -> AsyncIterator[FakeUpstream]:
    async for fake in _session_fake(FakeOllama()):
        yield fake


@pytest.fixture
def fake_openai(openai_upstream: FakeOpenAI) -> FakeOpenAI:
    openai_upstream.reset()
    return openai_upstream


@pytest.fixture
def fake_mistral(mistral_upstream: FakeMistral) -> FakeMistral:
    mistral_upstream.reset()
    return mistral_upstream


@pytest.fixture
def fake_anthropic(anthropic_upstream: FakeAnthropic) -> FakeAnthropic:
    anthropic_upstream.reset()
    return anthropic_upstream


@pytest.fixture
def fake_gemini(gemini_upstream: FakeGemini) -> FakeGemini:
    gemini_upstream.reset()
    return gemini_upstream


@pytest.fixture
def fake_ollama(ollama_upstream: FakeOllama) -> FakeOllama:
    ollama_upstream.reset()
    return ollama_upstream


@dataclass(frozen=True)
class ProviderCase:
    """One provider type wired to its fake: how to build it and which model to ask for."""

    id: str
    fake_fixture: str
    model: str
    build: Callable[..., Any]


PROVIDER_CASES = [
    ProviderCase(
        "openai",
        "fake_openai",
        "gpt-4o",
        lambda fake, counter, timeout_s=30.0: OpenAIChatProvider(
            "openai", api_key="sk-test", base_url=f"{fake.url}/v1", timeout_s=timeout_s,
            token_counter=counter,
        ),
    ),
    ProviderCase(
        "mistral",
        "fake_mistral",
        "mistral-large-latest",
        lambda fake, counter, timeout_s=30.0: MistralProvider(
            "mistral", api_key="test", server_url=fake.url, timeout_s=timeout_s,
            token_counter=counter,
        ),
    ),
    ProviderCase(
        "anthropic",
        "fake_anthropic",
        "claude-haiku-4-5",
        lambda fake, counter, timeout_s=30.0: AnthropicMessagesProvider(
            "anthropic", api_key="test", base_url=fake.url, timeout_s=timeout_s,
            token_counter=counter,
        ),
    ),
    ProviderCase(
        "gemini",
        "fake_gemini",
        "gemini-2.5-flash",
        lambda fake, counter, timeout_s=30.0: GeminiProvider(
            "gemini", api_key="test", base_url=fake.url, timeout_s=timeout_s,
            token_counter=counter,
        ),
    ),
    ProviderCase(
        "ollama",
        "fake_ollama",
        "llama3:8b",
        lambda fake, counter, timeout_s=30.0: OllamaProvider(
            "ollama", base_url=fake.url, timeout_s=timeout_s, token_counter=counter,
        ),
    ),
]


@pytest.fixture(params=PROVIDER_CASES, ids=[case.id for case in PROVIDER_CASES])
def case(request: pytest.FixtureRequest) -> ProviderCase:
    return request.param


@pytest.fixture
def upstream(case: ProviderCase, request: pytest.FixtureRequest) -> FakeUpstream:
    return request.getfixturevalue(case.fake_fixture)


@pytest.fixture
async def provider(
    case: ProviderCase, upstream: FakeUpstream, token_counter: TokenCounter
) -> AsyncIterator[Any]:
    built = case.build(upstream, token_counter)
    try:
        yield built
    finally:
        await built.aclose()


# --- Routeur end to end: the real server, configured by settings, over the fake upstreams ----
#
# Built per test (circuit breakers and retries keep state), with short retry waits and a
# fallback chain that stays among the fakes (no embedded model).

E2E_CATALOG = """
[fallbacks]
"gpt-4o" = ["mistral-large-latest"]
"gpt-4o-mini" = []
"mistral-large-latest" = []
"claude-sonnet-4-5" = []
"gemini-2.5-flash" = []
"""


@dataclass
class EndToEnd:
    """A running Routeur whose providers are the fakes."""

    channel: Any
    server: RunningServer
    fakes: dict[str, FakeUpstream]


@pytest.fixture
async def e2e(
    tmp_path: Path,
    fake_openai: FakeOpenAI,
    fake_mistral: FakeMistral,
    fake_anthropic: FakeAnthropic,
    fake_gemini: FakeGemini,
    fake_ollama: FakeOllama,
) -> AsyncIterator[EndToEnd]:
    catalog_file = tmp_path / "catalog.toml"
    catalog_file.write_text(E2E_CATALOG, encoding="utf-8")
    settings = server_settings(
        tmp_path,
        local_model_enabled=False,
        catalog_file=catalog_file,
        providers=[
            {"name": "openai", "type": "openai", "base_url": f"{fake_openai.url}/v1",
             "api_key": "sk-test"},
            {"name": "mistral", "type": "mistral", "base_url": fake_mistral.url,
             "api_key": "test"},
            {"name": "anthropic", "type": "anthropic", "base_url": fake_anthropic.url,
             "api_key": "test"},
            {"name": "gemini", "type": "gemini", "base_url": fake_gemini.url, "api_key": "test"},
            {"name": "ollama_local", "type": "ollama", "base_url": fake_ollama.url},
        ],
        retry_max_attempts=3,
        retry_initial_backoff_s=0.01,
        retry_max_backoff_s=0.05,
        breaker_failure_threshold=3,
        breaker_cooldown_s=0.3,
        response_cache_ttl_s=60,
    )
    running = await start_server(settings)
    fakes: dict[str, FakeUpstream] = {
        "openai": fake_openai,
        "mistral": fake_mistral,
        "anthropic": fake_anthropic,
        "gemini": fake_gemini,
        "ollama": fake_ollama,
    }
    try:
        async with open_channel(running.address) as channel:
            yield EndToEnd(channel, running, fakes)
    finally:
        await running.server.stop(0.5)
