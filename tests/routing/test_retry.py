"""The retry policy: what is retried, how long it waits, when it stops. No real sleeping."""

from __future__ import annotations

import random

import pytest

from routeur_grpc.errors import (
    DeadlineExceeded,
    InvalidArgument,
    ResourceExhausted,
    Unavailable,
)
from routeur_grpc.routing.retry import RetryPolicy, is_retryable


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_retryable_errors() -> None:
    assert is_retryable(Unavailable("down"))
    assert is_retryable(ResourceExhausted("slow down"))
    assert is_retryable(DeadlineExceeded("late"))
    assert not is_retryable(InvalidArgument("bad"))
    assert not is_retryable(ValueError("a bug"))


def test_full_jitter_stays_under_a_capped_exponential_ceiling() -> None:
    policy = RetryPolicy(initial_backoff_s=1, multiplier=2, max_backoff_s=5)
    assert [policy.ceiling(n) for n in (1, 2, 3, 4, 5)] == [1, 2, 4, 5, 5]
    rng = random.Random(7)
    waits = [policy.backoff(3, rng) for _ in range(500)]
    assert 0 <= min(waits) < 0.5 and 3.5 < max(waits) <= 4


def test_waits_stay_under_the_ceiling_of_each_retry() -> None:
    schedule = RetryPolicy().schedule(clock=FakeClock(), rng=random.Random(1))
    waits = []
    for error in (Unavailable("down"), ResourceExhausted("busy")):
        schedule.started()
        waits.append(schedule.next_delay(error))
    assert waits[0] is not None and waits[0] <= 1
    assert waits[1] is not None and waits[1] <= 2


def test_gives_up_after_max_attempts() -> None:
    schedule = RetryPolicy(max_attempts=4).schedule(clock=FakeClock())
    delays = []
    for _ in range(4):
        schedule.started()
        delays.append(schedule.next_delay(Unavailable("down")))
    assert all(delay is not None for delay in delays[:3])
    assert delays[3] is None


def test_does_not_retry_the_callers_mistakes() -> None:
    schedule = RetryPolicy().schedule(clock=FakeClock())
    schedule.started()
    assert schedule.next_delay(InvalidArgument("bad")) is None
    assert schedule.next_delay(ValueError("a bug")) is None


def test_retry_after_is_a_floor_on_the_wait() -> None:
    schedule = RetryPolicy().schedule(clock=FakeClock())
    schedule.started()
    assert schedule.next_delay(ResourceExhausted("busy", retry_after_s=3.5)) == 3.5


def test_retry_after_beyond_the_limit_fails_at_once() -> None:
    schedule = RetryPolicy(max_retry_after_s=30).schedule(clock=FakeClock())
    schedule.started()
    assert schedule.next_delay(ResourceExhausted("busy", retry_after_s=3600)) is None


def test_no_retry_would_end_past_the_deadline() -> None:
    clock = FakeClock()
    schedule = RetryPolicy().schedule(clock=clock, deadline=clock.now + 1.5)
    schedule.started()
    assert schedule.next_delay(ResourceExhausted("busy", retry_after_s=2)) is None
    assert schedule.next_delay(ResourceExhausted("busy", retry_after_s=1)) == 1


def test_policy_validation() -> None:
    with pytest.raises(ValueError):
        RetryPolicy(max_attempts=0)
