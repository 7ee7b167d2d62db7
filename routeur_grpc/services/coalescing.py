"""Text chunks that are ready together go out together.

A model streams one token per event; sending each as its own message costs a gRPC write
(and, through Envoy, a JSON line or an SSE event) per token, which is most of what a relayed
token costs the server. Here the stream is read by its own task into a small queue while the
previous message is being written: whatever text arrived meanwhile is joined into the next
message. The first token is never held back nor joined (it is sent as soon as it arrives), a slow
upstream's tokens still go out one by one as they come, and only a burst, or a client that
reads slower than the model writes, gets fewer, longer messages. Nothing but text is ever
joined: the last chunk (`done`, with the accounting), errors and tool calls go out as they
are, in order.

Closing the coalesced stream (the client went away) cancels the reading task, which closes
the source stream at once: cancellation still reaches the upstream without delay.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import suppress
from dataclasses import replace

from routeur_grpc.domain.completion import CompletionChunk

#: Chunks read ahead of the writer at most; beyond, the reader waits (bounded memory).
READ_AHEAD = 256

_END = object()


def joinable(chunk: CompletionChunk) -> bool:
    return bool(chunk.content) and not chunk.done and chunk.error is None and not chunk.tool_calls


async def coalesced(chunks: AsyncIterator[CompletionChunk]) -> AsyncIterator[CompletionChunk]:
    """`chunks`, with consecutive text chunks that are ready together joined into one."""
    queue: asyncio.Queue[object] = asyncio.Queue(READ_AHEAD)

    async def read() -> None:
        first = True
        try:
            async for chunk in chunks:
                await queue.put(chunk)
                if first:
                    first = False
                    await asyncio.sleep(0)  # let the writer send it before reading on
        except asyncio.CancelledError:
            raise  # the writer side closed the stream: nobody is left to tell
        except Exception as error:  # handed to the writer side, which raises it
            await queue.put(error)
            return
        await queue.put(_END)

    reader = asyncio.get_running_loop().create_task(read())
    held: object = None
    text_sent = False
    try:
        while True:
            item = await queue.get() if held is None else held
            held = None
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            assert isinstance(item, CompletionChunk)
            if joinable(item) and not text_sent:
                text_sent = True  # the first text goes alone, as soon as it is there
            elif joinable(item):
                parts = [item.content]
                while not queue.empty():
                    following = queue.get_nowait()
                    if (
                        isinstance(following, CompletionChunk)
                        and joinable(following)
                        and following.metadata == item.metadata
                    ):
                        parts.append(following.content)
                        continue
                    held = following  # not text (or labelled otherwise): next message
                    break
                if len(parts) > 1:
                    item = replace(item, content="".join(parts))
            yield item
    finally:
        reader.cancel()
        with suppress(asyncio.CancelledError):
            await reader
        aclose = getattr(chunks, "aclose", None)
        if aclose is not None:
            await aclose()
