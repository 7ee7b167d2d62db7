"""REST paths whose `"stream"` body flag picks between a unary and a streaming method.

Clients of the CAPL Routeur IA API POST to `/completion` with `"stream": true|false`, OpenAI's clients to
`/v1/chat/completions`; the transcoder can only choose a gRPC method from the path. The
gateway's Lua filter (gateway/rest_adapter.lua) reads the flag and, when it is true, sends
the request to the streaming method's path below. The OpenAPI document says so too.
"""

from __future__ import annotations

from types import MappingProxyType

# Plain path -> path of the streaming method (both POST, body `*`).
STREAM_SWITCHES = MappingProxyType(
    {
        "/completion": "/completion/stream",
        "/v1/chat/completions": "/v1/chat/completions/stream",
    }
)
