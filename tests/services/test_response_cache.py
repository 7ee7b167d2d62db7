"""The exact-match response cache: deterministic requests only, per user, with a TTL."""

from __future__ import annotations

from routeur_grpc.domain.completion import ChatMessage, CompletionRequest, Sampling
from routeur_grpc.services.response_cache import ResponseCache, cache_key, is_cacheable


class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


def test_only_temperature_zero_is_cacheable() -> None:
    assert is_cacheable(CompletionRequest(message="hi", model="m", temperature=0))
    assert not is_cacheable(CompletionRequest(message="hi", model="m"))
    assert not is_cacheable(CompletionRequest(message="hi", model="m", temperature=0.7))


def test_keys_are_per_user_and_per_prompt() -> None:
    request = CompletionRequest(message="hi", model="m", temperature=0)
    assert cache_key("alice", request) == cache_key("alice", request)
    assert cache_key("alice", request) != cache_key("bob", request)
    other = CompletionRequest(
        message="hi", model="m", temperature=0, history=(ChatMessage("user", "before"),)
    )
    assert cache_key("alice", request) != cache_key("alice", other)


def test_requests_differing_only_in_sampling_have_different_keys() -> None:
    plain = CompletionRequest(message="hi", model="m", temperature=0)
    keys = {
        cache_key("alice", CompletionRequest(message="hi", model="m", temperature=0, sampling=s))
        for s in (Sampling(), Sampling(stop=("x",)), Sampling(seed=1), Sampling(top_p=0.5))
    }
    assert len(keys) == 4
    assert cache_key("alice", plain) in keys


def test_entries_expire_and_the_least_recent_goes_first() -> None:
    clock = Clock()
    cache: ResponseCache[str] = ResponseCache(ttl_s=10, max_entries=2, clock=clock)
    cache.put("a", "A")
    cache.put("b", "B")
    assert cache.get("a") == "A"  # a is now the most recent
    cache.put("c", "C")
    assert cache.get("b") is None and cache.get("a") == "A" and cache.get("c") == "C"
    clock.now = 10
    assert cache.get("a") is None and len(cache) == 1
