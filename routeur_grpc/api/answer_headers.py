"""Response headers that say how an answer was produced, for clients that only read headers.

Sent as gRPC initial metadata, which Envoy passes to REST clients as HTTP response headers:
- `x-routeur-requested-model` and `x-routeur-fallback-reason` when another model than the
  one asked for answered (the metadata's `requested_model` and `fallback_reason`);
- `x-routeur-cache: hit` when the answer came from the response cache.
A stream sends them with its first message, where a fallback is already known.

A call sends its initial metadata once, so the remaining quota (`x-ratelimit-*`, see
`limits.report`) goes with them when the call was measured against limits; the quota
headers interceptor then has nothing left to send.
"""

from __future__ import annotations

import grpc

from routeur_grpc.domain.completion import CompletionMetadata
from routeur_grpc.limits import report

REQUESTED_MODEL_HEADER = "x-routeur-requested-model"
FALLBACK_REASON_HEADER = "x-routeur-fallback-reason"
CACHE_HEADER = "x-routeur-cache"


def answer_headers(metadata: CompletionMetadata | None) -> tuple[tuple[str, str], ...]:
    if metadata is None:
        return ()
    headers: list[tuple[str, str]] = []
    if metadata.fallback_reason:
        headers.append((REQUESTED_MODEL_HEADER, _ascii(metadata.requested_model)))
        headers.append((FALLBACK_REASON_HEADER, _ascii(metadata.fallback_reason)))
    if metadata.cache_hit:
        headers.append((CACHE_HEADER, "hit"))
    return tuple(headers)


async def send_answer_headers(
    context: grpc.aio.ServicerContext, metadata: CompletionMetadata | None
) -> None:
    """Send the headers `metadata` calls for, if any, with the quota's (before the first
    message)."""
    headers = answer_headers(metadata)
    quota = report.current()
    if headers and quota is not None and not quota.sent:
        headers += quota.headers()
        quota.sent = True
    if headers:
        await context.send_initial_metadata(headers)


def _ascii(value: str) -> str:
    return value.encode("ascii", "replace").decode("ascii")[:200]
