"""The quota a request was measured against, carried to its response metadata.

The completion service reserves before the model is asked; the response must then say, in
its metadata, how much quota is left (`x-ratelimit-*`, the headers OpenAI's API sends). The service does not see the gRPC context, so it writes the
figures into a per-request `QuotaReport` found through a ContextVar, which the quota headers
interceptor set up for the call and reads back.
"""

from __future__ import annotations

import math
from contextvars import ContextVar
from dataclasses import dataclass

from routeur_grpc.limits.counters import CounterState

HEADER_PREFIX = "x-ratelimit-"


@dataclass(slots=True)
class QuotaReport:
    """The tightest state of each kind of limit seen by the request (None: not limited)."""

    requests: CounterState | None = None
    tokens: CounterState | None = None
    #: Whether the call's initial metadata is gone (a call sends it once): whoever sends it
    #: first includes these headers and sets this.
    sent: bool = False

    def headers(self) -> tuple[tuple[str, str], ...]:
        """`x-ratelimit-{limit,remaining,reset}-{requests,tokens}` for the limits that apply."""
        out: list[tuple[str, str]] = []
        for kind, state in (("requests", self.requests), ("tokens", self.tokens)):
            if state is None:
                continue
            out += [
                (f"{HEADER_PREFIX}limit-{kind}", _number(state.counter.limit)),
                (f"{HEADER_PREFIX}remaining-{kind}", _number(state.remaining)),
                (f"{HEADER_PREFIX}reset-{kind}", f"{math.ceil(state.reset_s)}s"),
            ]
        return tuple(out)


_report: ContextVar[QuotaReport | None] = ContextVar("routeur_quota_report", default=None)


def begin_report() -> QuotaReport:
    """A fresh report for the call running in this context."""
    report = QuotaReport()
    _report.set(report)
    return report


def current() -> QuotaReport | None:
    """The report of the call running in this context (None outside a reporting call)."""
    return _report.get()


def record(states: tuple[CounterState, ...], kind_of: dict[str, str]) -> None:
    """Keep, per kind, the state with the least room left; `kind_of` maps counter keys to
    `requests` or `tokens` (others are not reported)."""
    report = _report.get()
    if report is None:
        return
    for state in states:
        kind = kind_of.get(state.counter.key)
        if kind == "requests" and _tighter(state, report.requests):
            report.requests = state
        elif kind == "tokens" and _tighter(state, report.tokens):
            report.tokens = state


def _tighter(state: CounterState, current: CounterState | None) -> bool:
    # A counter measured again (a stream asking for more room) replaces its older state.
    return (
        current is None
        or current.counter.key == state.counter.key
        or state.remaining < current.remaining
    )


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.6g}"
