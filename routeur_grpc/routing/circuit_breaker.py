"""A circuit breaker per deployment: stop sending traffic to one that keeps failing.

CLOSED: traffic flows; consecutive failures are counted, a success resets the count.
OPEN: after `failure_threshold` consecutive failures; no traffic for `cooldown_s` seconds.
HALF_OPEN: once the cooldown is over, exactly one request (the probe) goes through. Its
success closes the circuit; its failure opens it again for another cooldown. A probe that
is abandoned (the caller cancelled) frees the slot for the next request.

Not thread-safe: it lives in the event loop, like the router that uses it.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable
from dataclasses import dataclass, field


class BreakerState(enum.Enum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass(slots=True)
class CircuitBreaker:
    """Consecutive-failure breaker with a cooldown and a single probe."""

    failure_threshold: int = 5
    cooldown_s: float = 30.0
    clock: Callable[[], float] = time.monotonic
    _state: BreakerState = field(default=BreakerState.CLOSED, init=False)
    _failures: int = field(default=0, init=False)
    _opened_at: float = field(default=0.0, init=False)
    _probe_in_flight: bool = field(default=False, init=False)

    def __post_init__(self) -> None:
        if self.failure_threshold < 1:
            raise ValueError("failure_threshold must be at least 1")

    @property
    def state(self) -> BreakerState:
        if self._state is BreakerState.OPEN and self.clock() - self._opened_at >= self.cooldown_s:
            self._state = BreakerState.HALF_OPEN
            self._probe_in_flight = False
        return self._state

    @property
    def consecutive_failures(self) -> int:
        return self._failures

    def can_attempt(self) -> bool:
        """Whether a request may go now (without claiming anything)."""
        state = self.state
        if state is BreakerState.CLOSED:
            return True
        return state is BreakerState.HALF_OPEN and not self._probe_in_flight

    def retry_in(self) -> float:
        """Seconds until the next probe is allowed (0 if a request may go now)."""
        if self.can_attempt():
            return 0.0
        if self._state is BreakerState.OPEN:
            return max(0.0, self.cooldown_s - (self.clock() - self._opened_at))
        return self.cooldown_s  # a probe is in flight; its outcome decides

    def attempt(self) -> bool:
        """Claim the right to send a request; False if the circuit refuses it."""
        if not self.can_attempt():
            return False
        if self._state is BreakerState.HALF_OPEN:
            self._probe_in_flight = True
        return True

    def record_success(self) -> None:
        self._state = BreakerState.CLOSED
        self._failures = 0
        self._probe_in_flight = False

    def record_failure(self) -> None:
        self._failures += 1
        if self._state is BreakerState.HALF_OPEN or self._failures >= self.failure_threshold:
            self._state = BreakerState.OPEN
            self._opened_at = self.clock()
            self._probe_in_flight = False

    def record_abandoned(self) -> None:
        """The request ended with no verdict (cancelled, or the caller's own error)."""
        self._probe_in_flight = False
