"""An exact-match cache of whole (non-streamed) answers to deterministic requests.

Only requests at temperature 0 are cacheable (anything else is meant to vary), and only
non-streamed ones (the CAPL Routeur IA API's roadmap). Entries are keyed per user — one user's answer is
never served to another — and expire after a TTL; the least recently used entry goes first
when the cache is full. In memory, per process.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import astuple, dataclass
from typing import Generic, TypeVar

from routeur_grpc.domain.completion import CompletionRequest

V = TypeVar("V")


def is_cacheable(request: CompletionRequest) -> bool:
    """Deterministic requests only: temperature given and 0, no stored conversation."""
    return request.temperature == 0 and not request.conversation_id


def cache_key(user_id: str, request: CompletionRequest) -> str:
    """A digest of everything that shapes the answer, scoped to `user_id`."""
    material = {
        "user": user_id,
        "model": request.model,
        "agent": request.agent,
        "max_tokens": request.max_tokens,
        "sampling": astuple(request.sampling),
        "messages": [
            [m.role, m.content, [astuple(call) for call in m.tool_calls], m.tool_call_id]
            for m in request.messages()
        ],
        "tools": [astuple(tool) for tool in request.tools],
        "tool_choice": astuple(request.tool_choice),
        "project_id": request.project_id,
        "sources": list(request.sources),
        "allow_fallback": request.allow_fallback,
    }
    encoded = json.dumps(material, ensure_ascii=False, separators=(",", ":")).encode()
    return hashlib.sha256(encoded).hexdigest()


@dataclass(slots=True)
class _Entry(Generic[V]):
    value: V
    expires_at: float


class ResponseCache(Generic[V]):
    """TTL + LRU map from `cache_key` to an answer."""

    def __init__(
        self,
        ttl_s: float = 300.0,
        max_entries: int = 1024,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if ttl_s <= 0 or max_entries < 1:
            raise ValueError("ttl_s must be positive and max_entries at least 1")
        self._ttl_s = ttl_s
        self._max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[str, _Entry[V]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: str) -> V | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry.expires_at <= self._clock():
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return entry.value

    def put(self, key: str, value: V) -> None:
        self._entries[key] = _Entry(value, self._clock() + self._ttl_s)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        self._entries.clear()
