"""Which counters a request is charged on: per user and per API key, requests and tokens
per minute, and the user's spending budget for the current period.

Defaults come from the settings; an admin may override them per user (`UserLimits`, kept in
the store). A limit of 0 is off.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Literal, Protocol

from routeur_grpc.domain.caller import Caller
from routeur_grpc.domain.records import UserLimits
from routeur_grpc.limits.counters import Counter

BudgetPeriod = Literal["day", "week", "month"]
WINDOW_S = 60.0  # requests and tokens are limited per minute


@dataclass(frozen=True, slots=True)
class LimitDefaults:
    """The settings' defaults (0: off)."""

    requests_per_minute: int = 0
    tokens_per_minute: int = 0
    budget: float = 0.0
    budget_period: BudgetPeriod = "month"
    currency: str = "EUR"


class UserLimitsSource(Protocol):
    """Where per-user overrides are read (the store, with a short cache)."""

    async def limits_of(self, user_id: str) -> UserLimits | None: ...


@dataclass(frozen=True, slots=True)
class CallerCounters:
    """The counters one request is charged on, by kind."""

    requests: tuple[Counter, ...]
    tokens: tuple[Counter, ...]
    budget: tuple[Counter, ...]

    @property
    def empty(self) -> bool:
        return not (self.requests or self.tokens or self.budget)


def caller_counters(
    caller: Caller, defaults: LimitDefaults, overrides: UserLimits | None, now: float
) -> CallerCounters:
    """The counters of `caller` at `now` (the user's, and the API key's when one is used)."""
    rpm = _pick(overrides, "requests_per_minute", defaults.requests_per_minute)
    tpm = _pick(overrides, "tokens_per_minute", defaults.tokens_per_minute)
    budget = _pick(overrides, "budget", defaults.budget)
    # The user's limits cover all their traffic; each API key is also held to the server's
    # defaults, so a user whose own limits were raised spreads them over several keys.
    user = f"user:{caller.owner_id}"
    requests = [Counter(f"{user}:requests", rpm, window_s=WINDOW_S)] if rpm else []
    tokens = [Counter(f"{user}:tokens", tpm, window_s=WINDOW_S)] if tpm else []
    if caller.api_key_id:
        key = f"key:{caller.api_key_id}"
        if defaults.requests_per_minute:
            requests.append(
                Counter(f"{key}:requests", defaults.requests_per_minute, window_s=WINDOW_S)
            )
        if defaults.tokens_per_minute:
            tokens.append(Counter(f"{key}:tokens", defaults.tokens_per_minute, window_s=WINDOW_S))
    spending: tuple[Counter, ...] = ()
    if budget:
        label, end = current_period(defaults.budget_period, now)
        spending = (
            Counter(
                f"user:{caller.owner_id}:budget:{defaults.currency}:{label}",
                budget,
                kind="period",
                period_end=end,
            ),
        )
    return CallerCounters(tuple(requests), tuple(tokens), spending)


def current_period(period: BudgetPeriod, now: float) -> tuple[str, float]:
    """A label for the UTC period containing `now`, and when it ends (epoch seconds)."""
    label, start, days = _period(period, now)
    return label, (start + timedelta(days=days)).timestamp()


def period_days(period: BudgetPeriod, now: float) -> tuple[date, date]:
    """The first and last UTC day of the period containing `now`."""
    _, start, days = _period(period, now)
    return start.date(), (start + timedelta(days=days - 1)).date()


def _period(period: BudgetPeriod, now: float) -> tuple[str, datetime, int]:
    day = datetime.fromtimestamp(now, UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "day":
        return day.strftime("%Y-%m-%d"), day, 1
    if period == "week":
        start = day - timedelta(days=day.weekday())
        year, week, _ = start.isocalendar()
        return f"{year}-W{week:02d}", start, 7
    start = day.replace(day=1)
    return start.strftime("%Y-%m"), start, calendar.monthrange(day.year, day.month)[1]


def _pick(overrides: UserLimits | None, name: str, default: float) -> float:
    """The user's own value of limit `name` when set, else the default."""
    value = None if overrides is None else getattr(overrides, name)
    return default if value is None else value
