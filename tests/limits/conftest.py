"""Both counter stores, for the one contract suite: in process, and a real redis-server."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from fakes import FakeOpenAI
from redis_server import running_redis
from support import server_settings

from routeur_grpc.limits.counters import CounterStore
from routeur_grpc.limits.memory import InProcessCounters
from routeur_grpc.settings import Settings


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_redis(tmp_path_factory.mktemp("redis")) as url:
        yield url


@pytest.fixture(params=["memory", "redis"])
async def counters(request: pytest.FixtureRequest) -> AsyncIterator[CounterStore]:
    if request.param == "memory":
        store: CounterStore = InProcessCounters()
    else:
        from routeur_grpc.limits.redis_store import RedisCounters

        url = request.getfixturevalue("redis_url")
        store = RedisCounters(url)
        await store._client.flushdb()  # type: ignore[attr-defined]
    yield store
    await store.aclose()


@pytest.fixture(scope="session")
async def openai_upstream() -> AsyncIterator[FakeOpenAI]:
    fake = FakeOpenAI()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
def fake_openai(openai_upstream: FakeOpenAI) -> FakeOpenAI:
    openai_upstream.reset()
    return openai_upstream


def limited_settings(data_dir: Path, fake: FakeOpenAI, **overrides: object) -> Settings:
    """A server without the local model, routing OpenAI models to the fake, with limits."""
    return server_settings(
        data_dir,
        local_model_enabled=False,
        providers=[
            {
                "name": "openai",
                "type": "openai",
                "base_url": f"{fake.url}/v1",
                "api_key": "sk-test-limits-0000",
            },
        ],
        retry_max_attempts=1,
        **overrides,
    )
