"""One retry policy for every upstream: what is retryable, how long to wait, when to stop.

Capped exponential backoff with full jitter (the AI Providers page's schedule: 1 s, 2 s, 4 s): before retry `n`
(1-based) the wait is uniform in [0, min(cap, base * factor**(n-1))]. Full jitter spreads the
retries of many callers hit by the same outage (AWS Architecture Blog, "Exponential Backoff
And Jitter", 2015). A `Retry-After` from the upstream is a floor on the wait. The caller's
deadline bounds everything: no retry starts if its wait would end past the deadline.

The clock is injectable so that unit tests do not sleep for real.

Streams are retried only before their first token reaches the client; that rule lives in
the router, which calls this module only for attempts that have not yet sent anything.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field
from typing import Protocol

from routeur_grpc.errors import RouteurError


class Clock(Protocol):
    """Time as the retry loop sees it."""

    def monotonic(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """The real clock."""

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


def is_retryable(error: BaseException) -> bool:
    """Retry rate limits, unavailability and upstream timeouts; never the caller's mistakes."""
    return isinstance(error, RouteurError) and error.retryable


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Capped exponential backoff with full jitter."""

    max_attempts: int = 4  # the first try and 3 retries: waits up to 1 s, 2 s, 4 s
    initial_backoff_s: float = 1.0
    multiplier: float = 2.0
    max_backoff_s: float = 8.0
    #: A Retry-After longer than this is not waited for: the attempt fails at once.
    max_retry_after_s: float = 30.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.initial_backoff_s < 0 or self.max_backoff_s < 0 or self.multiplier < 1:
            raise ValueError("backoff must be non-negative and grow")

    def ceiling(self, retry: int) -> float:
        """Upper bound of the wait before retry number `retry` (1-based)."""
        return min(self.max_backoff_s, self.initial_backoff_s * self.multiplier ** (retry - 1))

    def backoff(self, retry: int, rng: random.Random) -> float:
        """Full jitter: uniform in [0, ceiling]."""
        return rng.uniform(0.0, self.ceiling(retry))

    def schedule(
        self,
        *,
        deadline: float | None = None,
        clock: Clock | None = None,
        rng: random.Random | None = None,
    ) -> RetrySchedule:
        return RetrySchedule(self, deadline, clock or SystemClock(), rng or random.Random())


@dataclass(slots=True)
class RetrySchedule:
    """The retry state of one call: how many attempts so far, and the wait before the next."""

    policy: RetryPolicy
    deadline: float | None
    clock: Clock
    rng: random.Random
    attempts: int = field(default=0)

    def started(self) -> None:
        """Count an attempt."""
        self.attempts += 1

    def next_delay(self, error: BaseException) -> float | None:
        """Seconds to wait before retrying after `error`, or None to give up."""
        if not is_retryable(error) or self.attempts >= self.policy.max_attempts:
            return None
        delay = self.policy.backoff(self.attempts, self.rng)
        retry_after = getattr(error, "retry_after_s", None)
        if retry_after is not None:
            if retry_after > self.policy.max_retry_after_s:
                return None
            delay = max(delay, retry_after)
        if self.deadline is not None and self.clock.monotonic() + delay >= self.deadline:
            return None
        return delay
