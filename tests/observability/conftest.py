"""A fake OpenAI upstream for the observability tests (a real HTTP server on 127.0.0.1)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from fakes import FakeOpenAI


@pytest.fixture
async def fake_openai() -> AsyncIterator[FakeOpenAI]:
    fake = FakeOpenAI()
    await fake.start()
    try:
        yield fake
    finally:
        await fake.stop()
