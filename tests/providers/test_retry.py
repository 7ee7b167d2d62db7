"""The retry policy: what is retried, how long it waits, when it stops. No real sleeping."""

from __future__ import annotations

import random

import pytest

from routeur_grpc.errors import (
    DeadlineExceeded,
    InvalidArgument,
    ResourceExhausted,
    RouteurError,
    Unavailable,
)
from routeur_grpc.routing.retry import RetryPolicy, call_with_retries, is_retryable


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class Flaky:
    """Fails with the given errors, then answers."""

    def __init__(self, *errors: RouteurError) -> None:
        self.errors = list(errors)
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


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


async def test_retries_then_succeeds() -> None:
    clock = FakeClock()
    operation = Flaky(Unavailable("down"), ResourceExhausted("busy"))
    result = await call_with_retries(
        operation, policy=RetryPolicy(), clock=clock, rng=random.Random(1)
    )
    assert result == "ok"
    assert operation.calls == 3
    assert len(clock.sleeps) == 2
    assert clock.sleeps[0] <= 1 and clock.sleeps[1] <= 2


async def test_gives_up_after_max_attempts_with_a_readable_message() -> None:
    clock = FakeClock()
    operation = Flaky(*[Unavailable("The provider 'x' failed.") for _ in range(10)])
    with pytest.raises(Unavailable) as caught:
        await call_with_retries(operation, policy=RetryPolicy(max_attempts=4), clock=clock)
    assert operation.calls == 4
    assert "gave up after 4 attempts" in caught.value.message
    assert caught.value.message.startswith("The provider 'x' failed.")


async def test_does_not_retry_the_callers_mistakes() -> None:
    operation = Flaky(InvalidArgument("bad"))
    with pytest.raises(InvalidArgument):
        await call_with_retries(operation, policy=RetryPolicy(), clock=FakeClock())
    assert operation.calls == 1


async def test_retry_after_is_a_floor_on_the_wait() -> None:
    clock = FakeClock()
    operation = Flaky(ResourceExhausted("busy", retry_after_s=3.5))
    await call_with_retries(operation, policy=RetryPolicy(), clock=clock)
    assert clock.sleeps == [3.5]


async def test_retry_after_beyond_the_limit_fails_at_once() -> None:
    clock = FakeClock()
    operation = Flaky(ResourceExhausted("busy", retry_after_s=3600))
    with pytest.raises(ResourceExhausted) as caught:
        await call_with_retries(operation, policy=RetryPolicy(), clock=clock)
    assert clock.sleeps == []
    assert caught.value.retry_after_s == 3600


async def test_no_retry_would_end_past_the_deadline() -> None:
    clock = FakeClock()
    operation = Flaky(ResourceExhausted("busy", retry_after_s=2), Unavailable("down"))
    with pytest.raises(ResourceExhausted):
        await call_with_retries(
            operation, policy=RetryPolicy(), clock=clock, deadline=clock.now + 1.5
        )
    assert operation.calls == 1 and clock.sleeps == []


async def test_retry_callback_sees_each_wait() -> None:
    seen: list[tuple[str, float]] = []
    operation = Flaky(Unavailable("down"))
    await call_with_retries(
        operation,
        policy=RetryPolicy(),
        clock=FakeClock(),
        on_retry=lambda error, delay: seen.append((type(error).__name__, delay)),
    )
    assert [name for name, _ in seen] == ["Unavailable"]


def test_policy_validation() -> None:
    with pytest.raises(ValueError):
        RetryPolicy(max_attempts=0)
