"""The errors the router raises itself (as opposed to those a provider maps from its SDK)."""

from __future__ import annotations

from routeur_grpc.domain.model_entry import ModelEntry
from routeur_grpc.errors import FailedPrecondition, RouteurError, Unavailable
from routeur_grpc.routing.deployments import CallerDeadlineExceeded

__all__ = [
    "CallerDeadlineExceeded",
    "caller_deadline_exceeded",
    "cooling_down",
    "gave_up",
    "not_configured",
]


def caller_deadline_exceeded(entry: ModelEntry | None) -> CallerDeadlineExceeded:
    who = f"The model '{entry.name}'" if entry is not None else "The model"
    return CallerDeadlineExceeded(
        f"{who} did not finish within the call's deadline. Allow more time, ask for "
        "fewer tokens, or stream the answer.",
        reason="DEADLINE_EXCEEDED",
    )


def not_configured(entry: ModelEntry) -> FailedPrecondition:
    """The model exists in the catalog but nothing here serves it; says what to configure."""
    if entry.provider == "local":
        setting = "set ROUTEUR_LOCAL_MODEL_ENABLED=true"
    else:
        setting = (
            f"add a provider of type '{entry.provider}' to ROUTEUR_PROVIDERS (or a "
            f"[[providers]] table with type = \"{entry.provider}\" in the config file)"
        )
    return FailedPrecondition(
        f"The model '{entry.name}' is in the catalog, but no '{entry.provider}' provider is "
        f"configured on this server: {setting}, or pick an available model (see "
        "ListModels).",
        reason="MODEL_NOT_CONFIGURED",
        metadata={"model": entry.name, "provider_type": entry.provider},
    )


def cooling_down(entry: ModelEntry, retry_in: float | None) -> Unavailable:
    wait = retry_in or 0.0
    return Unavailable(
        f"The model '{entry.name}' is paused after repeated upstream failures; retry in "
        f"{max(1, round(wait))} s.",
        reason="MODEL_COOLING_DOWN",
        metadata={"model": entry.name},
        retry_after_s=wait,
    )


def gave_up(
    entry: ModelEntry, failures: list[RouteurError], models: list[str], attempts: int
) -> RouteurError:
    """The error to report when every model of the chain failed before its first token."""
    if not failures:
        return not_configured(entry)
    upstream = [f for f in failures if f.reason != "MODEL_NOT_CONFIGURED"]
    chosen = upstream[-1] if upstream else failures[0]
    if attempts <= 1 and len(models) <= 1:
        return chosen
    tried = ", ".join(models)
    copy = type(chosen)(
        f"{chosen.message} (gave up after {attempts} attempts; tried {tried})",
        reason=chosen.reason,
        metadata=chosen.metadata,
        retry_after_s=chosen.retry_after_s,
    )
    copy.__cause__ = chosen.__cause__
    return copy
