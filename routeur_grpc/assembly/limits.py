"""Rate limits and budgets: where their counters live and how they apply."""

from __future__ import annotations

from routeur_grpc.limits.counters import CounterStore
from routeur_grpc.limits.memory import InProcessCounters
from routeur_grpc.limits.policy import LimitDefaults
from routeur_grpc.services.health import HealthCheck
from routeur_grpc.services.quota import QuotaConfig
from routeur_grpc.settings import Settings


def quota_counters(settings: Settings, checks: dict[str, HealthCheck]) -> CounterStore:
    """Rate-limit counters: in Redis when several instances share them, else in process."""
    if not settings.redis_url:
        return InProcessCounters()
    from routeur_grpc.limits.redis_store import RedisCounters  # only needed with Redis

    counters = RedisCounters(settings.redis_url)
    checks["rate_limits"] = counters.ping
    return counters


def quota_config(settings: Settings) -> QuotaConfig:
    """How rate limits and budgets apply, from the settings."""
    return QuotaConfig(
        defaults=LimitDefaults(
            requests_per_minute=settings.rate_limit_rpm,
            tokens_per_minute=settings.rate_limit_tpm,
            budget=settings.budget_amount,
            budget_period=settings.budget_period,
            currency=settings.currency,
        ),
        reserve_tokens=settings.rate_limit_reserve_tokens,
        hold_ttl_s=settings.rate_limit_hold_ttl_s,
        fail_open=settings.rate_limit_fail_open,
        admins_exempt=settings.rate_limit_admins_exempt,
    )
