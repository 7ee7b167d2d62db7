"""The HTTP client handed to the OpenAI and Anthropic SDKs: their own aiohttp transport.

Both SDKs ship `DefaultAioHttpClient` (the `aiohttp` extra), an `httpx2.AsyncClient` whose
requests go through aiohttp. The SDKs behave the same (requests, SSE decoding, typed
errors); what changes is the cost of each request and of each streamed event.
`bench/bench_sdk_transport.py` measures it against a local upstream: about a third less
CPU per request, and about half per streamed event, than httpx2's own transport.

Two things the default transport did for free are restored here: client spans for each
upstream request when tracing is on, and the honest reading of a dropped connection
(`upstream_errors.connection_failure`).

Connections: the SDKs cap each client at 1,000, and a call beyond waits for a free one.
The server already caps its calls in flight (`ROUTEUR_MAX_CONCURRENT_CALLS`, 10,000 by
default), so each provider client may open as many: below that cap, a call never waits
for a connection.
"""

from __future__ import annotations

import httpx2

from routeur_grpc.observability.tracing import trace_upstream_client

#: Connections to one provider instance at most (idle ones are kept for 5 s).
MAX_CONNECTIONS = 10_000


def aiohttp_client(client_class: type[httpx2.AsyncClient], timeout: httpx2.Timeout) -> httpx2.AsyncClient:
    """An SDK's `DefaultAioHttpClient` (`client_class`), traced when tracing is on."""
    client = client_class(
        timeout=timeout,
        limits=httpx2.Limits(max_connections=MAX_CONNECTIONS, max_keepalive_connections=100),
    )
    trace_upstream_client(client)
    return client
