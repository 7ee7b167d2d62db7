"""Text chunks that are ready together go out together.

Sending each token as its own message costs a gRPC write (and, through Envoy, a JSON line or
an SSE event) per token. The answer is read ahead while the previous message is being
written (`routeur_grpc.read_ahead`): the text that arrived meanwhile is joined into the next
message. The first token is never held back, a slow upstream's tokens still go out one by
one, and only a burst, or a client that reads slower than the model writes, gets fewer,
longer messages. Nothing but text of the same label is joined: the last chunk (`done`, with
the accounting), errors and tool calls go out as they are, in order.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

from routeur_grpc.domain.completion import CompletionChunk
from routeur_grpc.read_ahead import joined_when_ready


def joinable(chunk: CompletionChunk) -> bool:
    return bool(chunk.content) and not chunk.done and chunk.error is None and not chunk.tool_calls


def coalesced(chunks: AsyncIterator[CompletionChunk]) -> AsyncIterator[CompletionChunk]:
    """`chunks`, with consecutive text chunks that are ready together joined into one."""
    return joined_when_ready(
        chunks,
        joinable,
        lambda run: replace(run[0], content="".join(chunk.content for chunk in run)),
        lambda first, following: following.metadata == first.metadata,
    )
