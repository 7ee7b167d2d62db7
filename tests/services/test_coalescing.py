"""Text chunks ready together are sent together; nothing else is joined, nothing is lost."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from routeur_grpc.domain.completion import CompletionChunk, CompletionMetadata
from routeur_grpc.errors import Unavailable
from routeur_grpc.services.coalescing import coalesced

LABEL = CompletionMetadata(model="gpt-4o", agent="V2")
DONE = CompletionChunk(done=True, metadata=CompletionMetadata(model="gpt-4o", latency_s=1.0))


async def burst(*texts: str, done: bool = True) -> AsyncIterator[CompletionChunk]:
    for text in texts:
        yield CompletionChunk(content=text, metadata=LABEL)
    if done:
        yield DONE


async def collect(chunks: AsyncIterator[CompletionChunk]) -> list[CompletionChunk]:
    return [chunk async for chunk in chunks]


async def test_the_first_token_goes_alone_and_the_burst_behind_it_is_joined() -> None:
    sent = await collect(coalesced(burst("Bon", "jour", " à", " tous")))

    assert sent[0].content == "Bon"
    assert "".join(chunk.content for chunk in sent) == "Bonjour à tous"
    assert len(sent) < 5
    assert sent[-1] is DONE


async def test_tokens_that_come_one_at_a_time_go_one_by_one() -> None:
    asked: asyncio.Queue[None] = asyncio.Queue()

    async def paced() -> AsyncIterator[CompletionChunk]:
        for text in ("a", "b", "c"):
            await asked.get()  # the next token exists only once the last one was sent
            yield CompletionChunk(content=text, metadata=LABEL)

    stream = coalesced(paced())
    sent = []
    for _ in range(3):
        asked.put_nowait(None)
        sent.append((await asyncio.wait_for(anext(stream), 5)).content)  # never held back
    await stream.aclose()

    assert sent == ["a", "b", "c"]


async def test_text_of_another_label_is_not_joined() -> None:
    async def relabelled() -> AsyncIterator[CompletionChunk]:
        yield CompletionChunk(content="first", metadata=LABEL)
        yield CompletionChunk(content="x", metadata=LABEL)
        yield CompletionChunk(content="y", metadata=CompletionMetadata(model="fallback"))
        yield DONE

    sent = await collect(coalesced(relabelled()))

    assert [(c.content, c.metadata.model) for c in sent[:-1]] == [
        ("first", "gpt-4o"), ("x", "gpt-4o"), ("y", "fallback")
    ]


async def test_an_error_before_any_text_is_raised() -> None:
    async def failing() -> AsyncIterator[CompletionChunk]:
        raise Unavailable("upstream down")
        yield CompletionChunk()  # pragma: no cover

    with pytest.raises(Unavailable, match="upstream down"):
        await collect(coalesced(failing()))


async def test_closing_the_stream_closes_the_source_at_once() -> None:
    closed = asyncio.Event()

    async def endless() -> AsyncIterator[CompletionChunk]:
        try:
            while True:
                yield CompletionChunk(content="t", metadata=LABEL)
                await asyncio.sleep(0.001)
        finally:
            closed.set()

    stream = coalesced(endless())
    await anext(stream)
    await stream.aclose()

    assert closed.is_set()
