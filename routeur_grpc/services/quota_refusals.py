"""The errors a refused reservation becomes: which limit, whose, and when to retry.

Messages are for the caller: they name the limit and what to do. The ErrorInfo metadata
carries `quota_subject` (`user:<id>` or `key:<id>`), which the error mapping turns into a
`google.rpc.QuotaFailure` detail.
"""

from __future__ import annotations

import math

from routeur_grpc.errors import BudgetExceeded, RateLimited, RouteurError
from routeur_grpc.limits.counters import Verdict
from routeur_grpc.limits.policy import CallerCounters


def refusal(
    verdict: Verdict,
    counters: CallerCounters,
    tokens: int,
    currency: str,
    *,
    mid_stream: bool = False,
) -> RouteurError:
    """The error for a refused reservation, naming the limit and when to retry."""
    counter = verdict.refused
    assert counter is not None
    wait = math.ceil(verdict.retry_after_s)
    subject = ":".join(counter.key.split(":")[:2])  # user:<id> or key:<id>
    whose = "this API key's" if counter.key.startswith("key:") else "your"
    metadata = {"quota_subject": subject, "limit": _number(counter.limit)}
    stopped = "The answer was stopped: " if mid_stream else ""
    if counter in counters.requests:
        return RateLimited(
            f"{stopped}Too many requests: {whose} limit is {_number(counter.limit)} per "
            f"minute. Retry in {wait} s.",
            metadata={**metadata, "limit_kind": "requests_per_minute"},
            retry_after_s=wait,
        )
    if counter in counters.tokens:
        if tokens > counter.limit:
            return RateLimited(
                f"This request may use {tokens} tokens (prompt plus max_tokens) but {whose} "
                f"limit is {_number(counter.limit)} tokens per minute: lower max_tokens or "
                "shorten the prompt.",
                metadata={**metadata, "limit_kind": "tokens_per_minute"},
            )
        return RateLimited(
            f"{stopped}Too many tokens: {whose} limit is {_number(counter.limit)} tokens per "
            f"minute (prompt plus answer, reserved before the call). Retry in {wait} s.",
            metadata={**metadata, "limit_kind": "tokens_per_minute"},
            retry_after_s=wait,
        )
    period = counter.key.rsplit(":", 1)[1]
    return BudgetExceeded(
        f"{stopped}Your spending budget of {_number(counter.limit)} {currency} for {period} "
        f"is used up (answers are priced before they run). It renews in {wait / 3600:.1f} h; "
        "an admin can raise it.",
        metadata={**metadata, "limit_kind": "budget", "currency": currency},
        retry_after_s=wait,
    )


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"
