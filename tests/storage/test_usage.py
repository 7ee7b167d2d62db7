"""Contract: usage records and their sums per owner and UTC day, on every store."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest

from routeur_grpc.domain.records import DailyUsage, UsageRecord, UsageTotal
from routeur_grpc.domain.repositories import Store
from routeur_grpc.errors import AlreadyExists, InvalidArgument

MAY_1 = date(2026, 5, 1)


async def record(
    store: Store, request_id: str, owner: str, when: datetime, /, **overrides: Any
) -> UsageRecord:
    fields: dict[str, Any] = {
        "request_id": request_id,
        "owner_id": owner,
        "model": "gpt-4o",
        "provider": "openai",
        "prompt_tokens": 100,
        "completion_tokens": 20,
        "cost": 0.25,
        "currency": "USD",
        "emissions_g": 1.5,
        "latency_s": 0.8,
        "create_time": when,
    }
    return await store.usage.record(**(fields | overrides))


def at(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


async def test_a_record_is_returned_as_stored(store: Store) -> None:
    when = datetime(2026, 5, 1, 10, 30, 15, 123_456, tzinfo=UTC)

    kept = await record(store, "req-1", "alice", when, emissions_g=None)

    assert kept.create_time == when.replace(microsecond=123_000)
    assert (kept.prompt_tokens, kept.cost, kept.emissions_g) == (100, 0.25, None)


async def test_a_request_is_recorded_once(store: Store) -> None:
    await record(store, "req-1", "alice", at(MAY_1))

    with pytest.raises(AlreadyExists, match="req-1"):
        await record(store, "req-1", "alice", at(MAY_1))


def usage(request_id: str, owner: str, when: datetime, **overrides: Any) -> UsageRecord:
    fields: dict[str, Any] = {
        "request_id": request_id, "owner_id": owner, "model": "gpt-4o", "provider": "openai",
        "prompt_tokens": 100, "completion_tokens": 20, "cost": 0.25, "currency": "USD",
        "emissions_g": 1.5, "latency_s": 0.8, "create_time": when,
    }
    return UsageRecord(**(fields | overrides))


async def test_a_batch_is_written_at_once_and_counts_once(store: Store) -> None:
    batch = [usage(f"req-{n}", "alice", at(MAY_1)) for n in range(3)]

    await store.usage.record_many(batch)
    await store.usage.record_many([batch[0], usage("req-3", "alice", at(MAY_1))])

    total = await store.usage.total("alice", first_day=MAY_1, last_day=MAY_1)
    assert (total.requests, total.prompt_tokens) == (4, 400)


async def test_a_batch_is_checked_like_a_record(store: Store) -> None:
    with pytest.raises(InvalidArgument):
        await store.usage.record_many([usage("req-1", "alice", at(MAY_1), prompt_tokens=-1)])


async def test_usage_is_summed_per_owner_and_utc_day(store: Store) -> None:
    may_2 = MAY_1 + timedelta(days=1)
    await record(store, "r1", "alice", at(MAY_1, 0))
    await record(store, "r2", "alice", at(MAY_1, 23), emissions_g=None, cost=0.5)
    # 01:00 in Paris on May 2nd is still May 1st in UTC.
    paris = timezone(timedelta(hours=2))
    await record(store, "r3", "alice", datetime(2026, 5, 2, 1, tzinfo=paris))
    await record(store, "r4", "alice", at(may_2))
    await record(store, "r5", "bob", at(MAY_1), prompt_tokens=7, completion_tokens=3)
    await record(store, "r6", "alice", at(MAY_1 - timedelta(days=1)))  # out of range

    rows = await store.usage.daily("alice", first_day=MAY_1, last_day=may_2)

    assert rows == [
        DailyUsage("alice", MAY_1, 3, 300, 60, 1.0, 3.0),
        DailyUsage("alice", may_2, 1, 100, 20, 0.25, 1.5),
    ]
    everyone = await store.usage.daily(None, first_day=MAY_1, last_day=MAY_1)
    assert [(r.owner_id, r.requests, r.prompt_tokens) for r in everyone] == [
        ("alice", 3, 300),
        ("bob", 1, 7),
    ]


async def test_totals_cover_the_whole_range(store: Store) -> None:
    await record(store, "r1", "alice", at(MAY_1))
    await record(store, "r2", "alice", at(MAY_1 + timedelta(days=3)))
    await record(store, "r3", "bob", at(MAY_1), cost=2.0, emissions_g=None)

    last = MAY_1 + timedelta(days=30)
    assert await store.usage.total("alice", first_day=MAY_1, last_day=last) == UsageTotal(
        "alice", 2, 200, 40, 0.5, 3.0
    )
    assert await store.usage.totals_by_owner(first_day=MAY_1, last_day=last) == [
        UsageTotal("alice", 2, 200, 40, 0.5, 3.0),
        UsageTotal("bob", 1, 100, 20, 2.0, 0.0),
    ]


async def test_an_owner_without_usage_totals_zero(store: Store) -> None:
    assert await store.usage.total("nobody", first_day=MAY_1, last_day=MAY_1) == UsageTotal(
        "nobody", 0, 0, 0, 0.0, 0.0
    )
    assert await store.usage.daily("nobody", first_day=MAY_1, last_day=MAY_1) == []


async def test_a_transcription_keeps_the_seconds_of_audio_it_heard(store: Store) -> None:
    heard = await record(store, "req-audio", "alice", at(MAY_1, 10), audio_seconds=12.5)
    await record(store, "req-text", "alice", at(MAY_1, 11))

    recent = await store.usage.recent("alice", limit=2)

    assert heard.audio_seconds == 12.5
    assert [(r.request_id, r.audio_seconds) for r in recent] == [
        ("req-text", None),
        ("req-audio", 12.5),
    ]


async def test_audio_seconds_are_summed_and_requests_without_audio_count_zero(
    store: Store,
) -> None:
    may_2 = MAY_1 + timedelta(days=1)
    await record(store, "r1", "alice", at(MAY_1, 9), audio_seconds=12.5)
    await record(store, "r2", "alice", at(MAY_1, 10), audio_seconds=30.25)
    await record(store, "r3", "alice", at(MAY_1, 11))  # a completion: no audio
    await record(store, "r4", "alice", at(may_2))
    await record(store, "r5", "bob", at(MAY_1), audio_seconds=4.0)

    days = await store.usage.daily("alice", first_day=MAY_1, last_day=may_2)
    total = await store.usage.total("alice", first_day=MAY_1, last_day=may_2)
    by_owner = await store.usage.totals_by_owner(first_day=MAY_1, last_day=may_2)

    assert [(d.day, d.requests, d.audio_seconds) for d in days] == [
        (MAY_1, 3, 42.75),
        (may_2, 1, 0.0),
    ]
    assert (total.requests, total.audio_seconds) == (4, 42.75)
    assert [(t.owner_id, t.audio_seconds) for t in by_owner] == [("alice", 42.75), ("bob", 4.0)]


@pytest.mark.parametrize(
    ("first_day", "last_day"),
    [
        (MAY_1, MAY_1 - timedelta(days=1)),
        (at(MAY_1), MAY_1),
        ("2026-05-01", MAY_1),
    ],
)
async def test_a_day_range_is_two_ordered_dates(
    store: Store, first_day: object, last_day: object
) -> None:
    with pytest.raises(InvalidArgument):
        await store.usage.daily("alice", first_day=first_day, last_day=last_day)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "overrides",
    [
        {"prompt_tokens": -1},
        {"cost": float("nan")},
        {"cost": -0.01},
        {"latency_s": "fast"},
        {"audio_seconds": -1.0},
        {"audio_seconds": float("inf")},
        {"create_time": datetime(2026, 5, 1, 12)},  # naive: which zone?
        {"request_id": "has spaces"},
        {"request_id": {"$ne": None}},
        {"owner_id": {"$ne": None}},
    ],
)
async def test_usage_fields_are_checked(store: Store, overrides: dict[str, object]) -> None:
    with pytest.raises(InvalidArgument):
        await record(store, "req-1", "alice", at(MAY_1), **overrides)


async def test_an_owners_recent_requests_come_newest_first(store: Store) -> None:
    for hour in (9, 11, 10):
        await record(store, f"req-{hour}", "alice", at(MAY_1, hour))
    await record(store, "req-bob", "bob", at(MAY_1, 12))

    recent = await store.usage.recent("alice", limit=2)

    assert [r.request_id for r in recent] == ["req-11", "req-10"]
    assert recent[0].create_time == at(MAY_1, 11) and recent[0].owner_id == "alice"
    assert await store.usage.recent("nobody", limit=5) == []
    with pytest.raises(InvalidArgument):
        await store.usage.recent("alice", limit=0)
