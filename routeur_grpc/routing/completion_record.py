"""How a completion ended and what it cost, as the router reports it to whoever records it."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal

from routeur_grpc.domain.completion import CompletionMetadata
from routeur_grpc.errors import RouteurError

log = logging.getLogger("routeur_grpc.routing.router")

Outcome = Literal["completed", "failed", "cancelled"]


@dataclass(frozen=True, slots=True)
class CompletionRecord:
    """How a completion ended and what it cost; given to `on_accounted`."""

    outcome: Outcome
    requested_model: str
    provider: str  # type of the provider that served (or was last tried)
    metadata: CompletionMetadata
    error: RouteurError | None = None


def log_record(record: CompletionRecord) -> None:
    metadata = record.metadata
    log.info(
        "completion accounted",
        extra={
            "outcome": record.outcome,
            "model": metadata.model,
            "requested_model": record.requested_model,
            "prompt_tokens": metadata.usage.prompt_tokens,
            "completion_tokens": metadata.usage.completion_tokens,
            "latency_s": metadata.latency_s,
            "cost": metadata.pricing.total_cost if metadata.pricing else None,
            "currency": metadata.pricing.currency if metadata.pricing else None,
            "emissions_kg_co2eq": metadata.emissions_kg_co2eq,
            "error_reason": record.error.reason if record.error else None,
        },
    )
