"""Counters in this process: for one Routeur instance.

Every method runs without awaiting anything, so on the event loop each call is atomic: 50
concurrent requests are admitted exactly up to the limit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from routeur_grpc.limits.counters import Charge, Counter, CounterState, Verdict


@dataclass(slots=True)
class _Window:
    entries: dict[str, tuple[float, float]] = field(default_factory=dict)  # id: (start, amount)

    def purge(self, now: float, window_s: float) -> None:
        old = [key for key, (start, _) in self.entries.items() if start <= now - window_s]
        for key in old:
            del self.entries[key]

    def total(self) -> float:
        return sum(amount for _, amount in self.entries.values())

    def reset_s(self, now: float, window_s: float) -> float:
        newest = max((start for start, _ in self.entries.values()), default=None)
        return 0.0 if newest is None else max(0.0, newest + window_s - now)

    def room_after_s(self, now: float, counter: Counter, amount: float) -> float:
        """Seconds until enough entries leave the window for `amount` to fit."""
        total = self.total()
        freed = 0.0
        for start, used in sorted(self.entries.values()):
            freed += used
            if total - freed + amount <= counter.limit:
                return max(0.0, start + counter.window_s - now)
        return counter.window_s


@dataclass(slots=True)
class _Period:
    end: float
    used: float = 0.0
    holds: dict[str, tuple[float, float]] = field(default_factory=dict)  # id: (amount, expiry)

    def purge(self, now: float) -> None:
        for key in [key for key, (_, expiry) in self.holds.items() if expiry <= now]:
            del self.holds[key]

    def total(self) -> float:
        return self.used + sum(amount for amount, _ in self.holds.values())


class InProcessCounters:
    """`CounterStore` over dictionaries. Counters of ended periods are dropped as they end."""

    def __init__(self) -> None:
        self._windows: dict[str, _Window] = {}
        self._periods: dict[str, _Period] = {}

    async def reserve(
        self, hold_id: str, charges: Sequence[Charge], *, now: float, hold_ttl_s: float
    ) -> Verdict:
        self._forget_ended_periods(now)
        states: list[CounterState] = []
        for charge in charges:
            counter = charge.counter
            if counter.kind == "window":
                window = self._windows.setdefault(counter.key, _Window())
                window.purge(now, counter.window_s)
                used = window.total()
                if charge.amount > 0 and used + charge.amount > counter.limit:
                    return Verdict(
                        False,
                        tuple(states),
                        counter,
                        window.room_after_s(now, counter, charge.amount),
                    )
            else:
                period = self._periods.setdefault(counter.key, _Period(counter.period_end))
                period.purge(now)
                used = period.total()
                if charge.amount > 0 and used + charge.amount > counter.limit:
                    return Verdict(
                        False, tuple(states), counter, max(0.0, counter.period_end - now)
                    )
            states.append(CounterState(counter, used, 0.0))
        applied: list[CounterState] = []
        for charge, state in zip(charges, states, strict=True):
            counter = charge.counter
            if counter.kind == "window":
                window = self._windows[counter.key]
                start, amount = window.entries.get(hold_id, (now, 0.0))
                window.entries[hold_id] = (start, amount + charge.amount)
                reset = window.reset_s(now, counter.window_s)
            else:
                period = self._periods[counter.key]
                amount, _ = period.holds.get(hold_id, (0.0, 0.0))
                period.holds[hold_id] = (amount + charge.amount, now + hold_ttl_s)
                reset = max(0.0, counter.period_end - now)
            applied.append(CounterState(counter, state.used + charge.amount, reset))
        return Verdict(True, tuple(applied))

    async def settle(self, hold_id: str, charges: Sequence[Charge], *, now: float) -> None:
        for charge in charges:
            counter = charge.counter
            if counter.kind == "window":
                window = self._windows.get(counter.key)
                if window is not None and hold_id in window.entries:
                    start, _ = window.entries[hold_id]
                    window.entries[hold_id] = (start, charge.amount)
            else:
                period = self._periods.setdefault(counter.key, _Period(counter.period_end))
                period.holds.pop(hold_id, None)
                period.used += charge.amount

    async def seed(self, counter: Counter, amount: float) -> None:
        if counter.key not in self._periods:
            self._periods[counter.key] = _Period(counter.period_end, used=amount)

    def _forget_ended_periods(self, now: float) -> None:
        # Period keys carry their period; an ended one is never charged again. Window
        # counters emptied by time are dropped too, so idle users cost no memory.
        for key in [key for key, window in self._windows.items() if not window.entries]:
            del self._windows[key]
        for key in [key for key, period in self._periods.items() if period.end <= now]:
            del self._periods[key]

    async def aclose(self) -> None:
        self._windows.clear()
        self._periods.clear()
