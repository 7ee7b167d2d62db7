"""The counter store contract, run on both implementations (in process and Redis)."""

from __future__ import annotations

import asyncio

from routeur_grpc.limits.counters import Charge, Counter, CounterStore

NOW = 1_800_000_000.0
TTL = 900.0


def window(key: str, limit: float) -> Counter:
    return Counter(key, limit, window_s=60.0)


def period(key: str, limit: float, end: float = NOW + 86_400) -> Counter:
    return Counter(key, limit, kind="period", period_end=end)


async def test_a_window_admits_exactly_its_limit_under_concurrency(counters: CounterStore):
    requests = window("user:a:requests", 10)
    verdicts = await asyncio.gather(
        *(
            counters.reserve(f"r{i}", [Charge(requests, 1)], now=NOW, hold_ttl_s=TTL)
            for i in range(50)
        )
    )
    assert sum(v.allowed for v in verdicts) == 10
    refused = [v for v in verdicts if not v.allowed]
    assert all(v.refused == requests for v in refused)
    assert all(0 < v.retry_after_s <= 60 for v in refused)


async def test_entries_leave_the_window_after_it_and_retry_after_says_when(counters: CounterStore):
    tokens = window("user:b:tokens", 100)
    assert (await counters.reserve("first", [Charge(tokens, 60)], now=NOW, hold_ttl_s=TTL)).allowed
    assert (
        await counters.reserve("second", [Charge(tokens, 30)], now=NOW + 20, hold_ttl_s=TTL)
    ).allowed
    refused = await counters.reserve("third", [Charge(tokens, 50)], now=NOW + 30, hold_ttl_s=TTL)
    assert not refused.allowed
    assert refused.retry_after_s == 30  # when "first" leaves, 50 fit
    later = await counters.reserve("third", [Charge(tokens, 50)], now=NOW + 60, hold_ttl_s=TTL)
    assert later.allowed
    assert later.states[0].used == 80 and later.states[0].remaining == 20


async def test_a_refusal_applies_no_charge_at_all(counters: CounterStore):
    requests, tokens = window("user:c:requests", 5), window("user:c:tokens", 100)
    verdict = await counters.reserve(
        "big", [Charge(requests, 1), Charge(tokens, 150)], now=NOW, hold_ttl_s=TTL
    )
    assert not verdict.allowed and verdict.refused == tokens
    small = await counters.reserve(
        "small", [Charge(requests, 1), Charge(tokens, 10)], now=NOW, hold_ttl_s=TTL
    )
    assert [state.used for state in small.states] == [1, 10]


async def test_settling_replaces_the_reservation_by_what_was_used(counters: CounterStore):
    tokens = window("user:d:tokens", 100)
    await counters.reserve("call", [Charge(tokens, 90)], now=NOW, hold_ttl_s=TTL)
    await counters.settle("call", [Charge(tokens, 25)], now=NOW + 1)
    verdict = await counters.reserve("next", [Charge(tokens, 75)], now=NOW + 2, hold_ttl_s=TTL)
    assert verdict.allowed and verdict.states[0].used == 100


async def test_reserving_again_grows_the_same_reservation(counters: CounterStore):
    tokens = window("user:e:tokens", 100)
    await counters.reserve("stream", [Charge(tokens, 40)], now=NOW, hold_ttl_s=TTL)
    grown = await counters.reserve("stream", [Charge(tokens, 40)], now=NOW + 1, hold_ttl_s=TTL)
    assert grown.allowed and grown.states[0].used == 80
    assert not (
        await counters.reserve("stream", [Charge(tokens, 40)], now=NOW + 2, hold_ttl_s=TTL)
    ).allowed
    await counters.settle("stream", [Charge(tokens, 50)], now=NOW + 3)
    again = await counters.reserve("other", [Charge(tokens, 50)], now=NOW + 4, hold_ttl_s=TTL)
    assert again.allowed and again.states[0].used == 100


async def test_a_budget_counts_settled_spending_and_holds_in_flight(counters: CounterStore):
    budget = period("user:f:budget:EUR:2027-01", 1.0)
    assert (await counters.reserve("a", [Charge(budget, 0.6)], now=NOW, hold_ttl_s=TTL)).allowed
    refused = await counters.reserve("b", [Charge(budget, 0.5)], now=NOW, hold_ttl_s=TTL)
    assert not refused.allowed and refused.retry_after_s == 86_400
    await counters.settle("a", [Charge(budget, 0.25)], now=NOW + 1)
    allowed = await counters.reserve("b", [Charge(budget, 0.5)], now=NOW + 2, hold_ttl_s=TTL)
    assert allowed.allowed and abs(allowed.states[0].used - 0.75) < 1e-9
    await counters.settle("b", [Charge(budget, 0.75)], now=NOW + 3)
    assert not (
        await counters.reserve("c", [Charge(budget, 0.01)], now=NOW + 4, hold_ttl_s=TTL)
    ).allowed


async def test_holds_of_a_crashed_instance_expire(counters: CounterStore):
    budget = period("user:g:budget:EUR:2027-01", 1.0)
    tokens = window("user:g:tokens", 100)
    await counters.reserve(
        "lost", [Charge(budget, 1.0), Charge(tokens, 100)], now=NOW, hold_ttl_s=TTL
    )
    assert not (
        await counters.reserve("x", [Charge(budget, 0.1)], now=NOW + 10, hold_ttl_s=TTL)
    ).allowed
    assert not (
        await counters.reserve("y", [Charge(tokens, 1)], now=NOW + 10, hold_ttl_s=TTL)
    ).allowed
    # The token entry leaves its window after a minute, the budget hold after its TTL.
    assert (await counters.reserve("y", [Charge(tokens, 1)], now=NOW + 61, hold_ttl_s=TTL)).allowed
    assert (
        await counters.reserve("x", [Charge(budget, 0.1)], now=NOW + TTL + 1, hold_ttl_s=TTL)
    ).allowed


async def test_subjects_are_independent(counters: CounterStore):
    alice, bob = window("user:alice:requests", 1), window("user:bob:requests", 1)
    assert (await counters.reserve("1", [Charge(alice, 1)], now=NOW, hold_ttl_s=TTL)).allowed
    assert (await counters.reserve("2", [Charge(bob, 1)], now=NOW, hold_ttl_s=TTL)).allowed
    assert not (await counters.reserve("3", [Charge(alice, 1)], now=NOW, hold_ttl_s=TTL)).allowed


async def test_a_period_starts_from_the_seeded_spending_once(counters: CounterStore):
    budget = period("user:h:budget:EUR:2027-01", 1.0)
    await counters.seed(budget, 0.75)
    await counters.seed(budget, 0.0)  # already set: ignored
    refused = await counters.reserve("a", [Charge(budget, 0.5)], now=NOW, hold_ttl_s=TTL)
    assert not refused.allowed
    allowed = await counters.reserve("a", [Charge(budget, 0.25)], now=NOW, hold_ttl_s=TTL)
    assert allowed.allowed and allowed.states[0].used == 1.0
