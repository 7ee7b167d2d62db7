"""The limiter's one interface: counters that reserve, then settle, amounts atomically.

Two kinds of counter:

- `window`: a sliding window log (requests per minute, tokens per minute). Each request is
  one entry (its start time and its amount); an entry counts while it is younger than the
  window. Exact, with no burst at a window boundary. A reservation is the entry itself, so
  one left behind by a crashed instance stops counting when it leaves the window.
- `period`: a spending budget over a calendar period (day, week, month; UTC). What was
  settled is summed; reservations in flight are holds that expire after `hold_ttl_s`, so a
  crashed instance's holds free themselves.

`reserve` checks every charge and applies all of them or none: a request refused by its
token limit does not count as a request either. Reserving again with the same `hold_id`
adds to the same entry or hold (a stream asking for more room). `settle` replaces each
reservation by the amount really used; `seed` starts a period from what the store says
was spent. Implementations: `memory.InProcessCounters` and
`redis_store.RedisCounters`; one contract suite (`tests/limits`) runs on both.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

CounterKind = Literal["window", "period"]


@dataclass(frozen=True, slots=True)
class Counter:
    """One limit on one subject, e.g. the tokens per minute of user `alice`."""

    key: str  # unique per subject, limit kind and (for periods) period, e.g. "user:alice:tokens"
    limit: float
    kind: CounterKind = "window"
    window_s: float = 60.0  # window counters: the sliding window's length
    period_end: float = 0.0  # period counters: when the period ends (epoch seconds)


@dataclass(frozen=True, slots=True)
class Charge:
    """An amount to reserve (or, to `settle`, the amount really used) on a counter."""

    counter: Counter
    amount: float


@dataclass(frozen=True, slots=True)
class CounterState:
    """A counter after a call: what is used (reservations included) and when it resets."""

    counter: Counter
    used: float
    reset_s: float  # seconds until everything counted now has left the window / period ends

    @property
    def remaining(self) -> float:
        return max(0.0, self.counter.limit - self.used)


@dataclass(frozen=True, slots=True)
class Verdict:
    """The outcome of `reserve`."""

    allowed: bool
    states: tuple[CounterState, ...]
    refused: Counter | None = None  # the first counter without room, when refused
    retry_after_s: float = 0.0  # when that counter will have room for the amount asked


class CountersUnavailable(Exception):
    """The counters cannot be reached (Redis down): the caller decides to fail open or
    closed. The message names no address or secret."""


class CounterStore(Protocol):
    """Where the counters live."""

    async def reserve(
        self, hold_id: str, charges: Sequence[Charge], *, now: float, hold_ttl_s: float
    ) -> Verdict:
        """Add every amount, or none when one counter would go over its limit."""
        ...

    async def settle(self, hold_id: str, charges: Sequence[Charge], *, now: float) -> None:
        """Replace the reservations of `hold_id` by the amounts really used."""
        ...

    async def seed(self, counter: Counter, amount: float) -> None:
        """Set what a period counter has settled, unless it was set (or charged) already:
        a budget starts from the spending the store recorded, after a restart too."""
        ...

    async def aclose(self) -> None: ...
