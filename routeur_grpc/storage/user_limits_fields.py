"""Checks on per-user limits, shared by both stores (one home per rule)."""

from __future__ import annotations

from routeur_grpc.storage import validation as check


def limit_values(
    requests_per_minute: object, tokens_per_minute: object, budget: object
) -> tuple[int | None, int | None, float | None]:
    """The three overrides, checked: whole numbers (or a finite amount) not below 0, or None."""
    rpm = (
        None
        if requests_per_minute is None
        else check.count("requests_per_minute", requests_per_minute)
    )
    tpm = None if tokens_per_minute is None else check.count("tokens_per_minute", tokens_per_minute)
    return rpm, tpm, check.optional_amount("budget", budget)
