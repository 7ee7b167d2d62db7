"""Metrics, and the usage recorder that feeds them each accounted completion."""

from __future__ import annotations

from routeur_grpc.domain.repositories import Store
from routeur_grpc.observability.metrics import Metrics, MetricsOptions
from routeur_grpc.routing.router import ModelRouter
from routeur_grpc.services.usage import UsageRecorder
from routeur_grpc.settings import Settings


def metrics(settings: Settings, router: ModelRouter) -> Metrics:
    """The Prometheus metrics, watching the router's circuits."""
    built = Metrics(MetricsOptions(per_user_labels=settings.metrics_per_user_labels))
    built.watch_circuits(router.circuit_states)
    return built


def usage_recorder(settings: Settings, store: Store, metrics: Metrics) -> UsageRecorder:
    """Records each completion's usage, and tells the metrics about it."""
    return UsageRecorder(
        store.usage,
        settings.currency,
        observer=lambda caller, provider, metadata: metrics.completion_accounted(
            provider, metadata, caller.owner_id
        ),
    )
