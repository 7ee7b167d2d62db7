"""Finding who answers: the requested model, retried, then its fallbacks, before any token.

For each model of the chain (`[fallbacks]` of the catalog) a deployment is chosen and one
attempt is run (`AttemptRunner`); deployment failures are retried with the one retry policy
(another deployment at once when a fresh one is left, else after the backoff), then the next
model of the chain is tried. The caller's mistakes, the caller's own limits and the
caller's deadline end the walk at once; but a fallback whose API lacks a sampling parameter
the caller gave (a `seed` for Anthropic) is passed over, not blamed on the caller: the
requested model's own failure is what the caller hears when no other model answers.

A model with no configured provider is not answered by another one behind the caller's
back: the walk stops with FAILED_PRECONDITION naming the setting to add, unless the caller
(`allow_fallback`) or the catalog entry (`fallback_if_unconfigured`) allows its chain to
answer instead. Whoever answers, the notes of every attempt and the reason for a fallback
go back with the answer.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass, field

from routeur_grpc.accounting.ledger import UsageLedger
from routeur_grpc.domain.completion import AttemptNote, ChatMessage, CompletionRequest
from routeur_grpc.domain.model_entry import ModelEntry
from routeur_grpc.errors import RouteurError
from routeur_grpc.providers.sampling import REASON_UNSUPPORTED_PARAMETER
from routeur_grpc.routing.attempt import Attempt
from routeur_grpc.routing.attempt_runner import AttemptRunner
from routeur_grpc.routing.deployments import Deployment, is_deployment_failure
from routeur_grpc.routing.model_directory import ModelDirectory
from routeur_grpc.routing.retry import Clock, RetryPolicy
from routeur_grpc.routing.route_errors import (
    caller_deadline_exceeded,
    cooling_down,
    gave_up,
    not_configured,
)

log = logging.getLogger(__name__)

#: `fallback_reason` when the requested model has no configured provider here.
NOT_CONFIGURED_REASON = "MODEL_NOT_CONFIGURED"


@dataclass(slots=True)
class Walk:
    """What the walk did: the attempts made, and why the requested model did not answer."""

    notes: list[AttemptNote] = field(default_factory=list)
    fallback_reason: str = ""


class ChainWalker:
    """Opens the answer of the first model of the chain that gives a first token."""

    def __init__(
        self,
        directory: ModelDirectory,
        runner: AttemptRunner,
        retry: RetryPolicy,
        clock: Clock,
        rng: random.Random,
    ) -> None:
        self._directory = directory
        self._runner = runner
        self._retry = retry
        self._clock = clock
        self._rng = rng

    async def open(
        self,
        entry: ModelEntry,
        request: CompletionRequest,
        messages: list[ChatMessage],
        ledger: UsageLedger,
        deadline: float | None,
        walk: Walk,
        *,
        prefer_unary: bool = False,
        allow_fallback: bool = False,
    ) -> Attempt:
        table = self._directory.table
        if not table.is_available(entry.name) and not (
            allow_fallback or entry.fallback_if_unconfigured
        ):
            raise not_configured(entry)
        failures: list[RouteurError] = []
        tried_models: list[str] = []
        attempts = 0
        for name in table.chain(entry.name):
            candidate = self._directory.catalog.resolve(name)
            if not table.is_available(candidate.name):
                failures.append(not_configured(candidate))
                if candidate.name == entry.name:
                    walk.fallback_reason = NOT_CONFIGURED_REASON
                continue
            schedule = self._retry.schedule(deadline=deadline, clock=self._clock, rng=self._rng)
            tried: list[Deployment] = []
            while True:
                if deadline is not None and self._clock.monotonic() >= deadline:
                    raise caller_deadline_exceeded(candidate)
                deployment = table.choose(candidate.name, exclude=tried)
                if deployment is None:
                    failure = cooling_down(candidate, table.retry_in(candidate.name))
                    failures.append(failure)
                    if candidate.name == entry.name:
                        walk.fallback_reason = failure.reason
                    break
                schedule.started()
                attempts += 1
                ledger.touch(candidate)
                if candidate.name not in tried_models:
                    tried_models.append(candidate.name)
                try:
                    attempt = await self._runner.open(
                        candidate, deployment, request, messages, deadline, prefer_unary
                    )
                except RouteurError as error:
                    walk.notes.append(
                        AttemptNote(candidate.name, deployment.provider.name, error.reason)
                    )
                    if error.reason == REASON_UNSUPPORTED_PARAMETER and candidate.name != entry.name:
                        break  # a fallback that cannot take the request as asked: the next
                    if not is_deployment_failure(error):
                        raise
                    if candidate.name == entry.name:
                        walk.fallback_reason = error.reason
                    tried.append(deployment)
                    failures.append(error)
                    delay = schedule.next_delay(error)
                    if delay is None:
                        break  # this model is done for; on to the next of the chain
                    if self._fresh_deployment_left(candidate.name, tried):
                        continue  # another deployment can take it now
                    log.info(
                        "retrying",
                        extra={"model": candidate.name, "reason": error.reason, "delay_s": delay},
                    )
                    await self._clock.sleep(delay)
                    continue
                walk.notes.append(AttemptNote(candidate.name, deployment.provider.name))
                if candidate.name == entry.name:
                    walk.fallback_reason = ""
                return attempt
        raise gave_up(entry, failures, tried_models, attempts)

    def _fresh_deployment_left(self, model: str, tried: list[Deployment]) -> bool:
        return any(
            d not in tried and d.breaker.can_attempt()
            for d in self._directory.table.deployments(model)
        )
