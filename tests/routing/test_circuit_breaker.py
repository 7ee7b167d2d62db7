"""The circuit breaker opens after repeated failures, cools down, probes once, recovers."""

from __future__ import annotations

from routeur_grpc.routing.circuit_breaker import BreakerState, CircuitBreaker


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def breaker(clock: Clock) -> CircuitBreaker:
    return CircuitBreaker(failure_threshold=3, cooldown_s=10, clock=clock)


def test_opens_after_consecutive_failures_only() -> None:
    b = breaker(Clock())
    b.record_failure()
    b.record_failure()
    b.record_success()  # resets the count
    b.record_failure()
    b.record_failure()
    assert b.state is BreakerState.CLOSED and b.can_attempt()
    b.record_failure()
    assert b.state is BreakerState.OPEN
    assert not b.can_attempt() and not b.attempt()


def test_half_open_after_cooldown_admits_one_probe_then_closes_on_success() -> None:
    clock = Clock()
    b = breaker(clock)
    for _ in range(3):
        b.record_failure()
    clock.now = 9.9
    assert not b.can_attempt()
    assert 0 < b.retry_in() <= 0.1 + 1e-9
    clock.now = 10
    assert b.state is BreakerState.HALF_OPEN
    assert b.attempt()  # the probe
    assert not b.attempt()  # nobody else while it runs
    b.record_success()
    assert b.state is BreakerState.CLOSED and b.consecutive_failures == 0


def test_failed_probe_opens_again_for_a_full_cooldown() -> None:
    clock = Clock()
    b = breaker(clock)
    for _ in range(3):
        b.record_failure()
    clock.now = 10
    assert b.attempt()
    b.record_failure()
    assert b.state is BreakerState.OPEN
    clock.now = 19
    assert not b.can_attempt()
    clock.now = 20
    assert b.can_attempt()


def test_abandoned_probe_frees_the_slot() -> None:
    clock = Clock()
    b = breaker(clock)
    for _ in range(3):
        b.record_failure()
    clock.now = 10
    assert b.attempt()
    b.record_abandoned()
    assert b.state is BreakerState.HALF_OPEN
    assert b.attempt()
