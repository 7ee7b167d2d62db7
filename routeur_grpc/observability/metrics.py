"""Prometheus metrics, named after OpenTelemetry's semantic conventions where they apply.

Names follow the OpenTelemetry semantic conventions for generative AI (v1.37: the
`gen_ai.provider.name`, `gen_ai.request.model`, `gen_ai.token.type` attributes;
`gen_ai.client.token.usage`, `gen_ai.client.operation.duration`,
`gen_ai.server.time_to_first_token`) and for RPC (`rpc.method`, `rpc.grpc.status_code`),
written the Prometheus way: dots become underscores and the unit is a suffix. Routeur's own
figures (cost, carbon, in-flight streams) are prefixed `routeur_`.

Labels never carry a user id by default: one series per user would grow without bound
(`per_user_labels` turns it on for small deployments).

Each server owns its `CollectorRegistry`, so several servers in one process (the tests)
do not collide. With several worker processes, each writes its figures to files that the
main process adds up (prometheus-client's multiprocess mode). Each worker has its own
circuit breakers: `routeur_circuit_state` is then the most open state among the live
workers, which each publish every second (in one process it is read at each scrape).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector

from routeur_grpc.domain.completion import CompletionMetadata

SEMCONV_VERSION = "1.37.0"
#: Set by the main process of several workers (prometheus-client reads it too).
MULTIPROCESS_DIRECTORY = "PROMETHEUS_MULTIPROC_DIR"

# Buckets for request durations: LLM calls run from milliseconds (a cache hit) to minutes.
DURATION_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
                    30, 60, 120, 300)
# The GenAI conventions' advised buckets for token counts.
TOKEN_BUCKETS = (1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576)

OPERATION_CHAT = "chat"


@dataclass(frozen=True, slots=True)
class MetricsOptions:
    per_user_labels: bool = False


class Metrics:
    """Every metric the server exposes, in one registry."""

    def __init__(self, options: MetricsOptions | None = None) -> None:
        self.options = options or MetricsOptions()
        self.registry = CollectorRegistry()
        self._circuit_states: Callable[[], Mapping[str, Mapping[str, str]]] | None = None
        self._circuit_gauge: Gauge | None = None
        r = self.registry
        rpc = ["rpc_service", "rpc_method"]
        self.rpc_requests = Counter(
            "routeur_rpc_requests", "Finished calls by RPC and gRPC status.",
            [*rpc, "rpc_grpc_status_code"], registry=r,
        )
        self.rpc_duration = Histogram(
            "rpc_server_duration_seconds", "Duration of each call, by RPC.",
            rpc, buckets=DURATION_BUCKETS, registry=r,
        )
        self.rpc_first_message = Histogram(
            "routeur_rpc_time_to_first_message_seconds",
            "For server-streaming RPCs, time from the call to its first message.",
            rpc, buckets=DURATION_BUCKETS, registry=r,
        )
        self.inflight_streams = Gauge(
            "routeur_inflight_streams", "Server-streaming calls in progress, by RPC.",
            rpc, registry=r, multiprocess_mode="livesum",
        )
        genai = ["gen_ai_operation_name", "gen_ai_provider_name", "gen_ai_request_model"]
        if self.options.per_user_labels:
            genai.append("user_id")
        self._genai_labels = genai
        self.token_usage = Histogram(
            "gen_ai_client_token_usage", "Tokens used per request, by type (input, output).",
            [*genai, "gen_ai_token_type"], buckets=TOKEN_BUCKETS, registry=r,
        )
        self.tokens_total = Counter(
            "routeur_tokens", "Tokens used, by type (input, output).",
            [*genai, "gen_ai_token_type"], registry=r,
        )
        self.operation_duration = Histogram(
            "gen_ai_client_operation_duration_seconds",
            "Duration of a model operation as Routeur saw it (all attempts).",
            genai, buckets=DURATION_BUCKETS, registry=r,
        )
        self.time_to_first_token = Histogram(
            "gen_ai_server_time_to_first_token_seconds",
            "Time from a streamed completion's call to its first piece of text.",
            ["rpc_method"], buckets=DURATION_BUCKETS, registry=r,
        )
        self.cost = Counter(
            "routeur_cost", "Money spent, in the configured currency.",
            [*genai, "currency"], registry=r,
        )
        self.emissions = Counter(
            "routeur_emissions_gco2eq", "Estimated carbon footprint, grams CO2-equivalent.",
            genai, registry=r,
        )
        self.upstream_errors = Counter(
            "routeur_upstream_errors", "Failed upstream attempts, by provider and reason.",
            ["gen_ai_provider_name", "gen_ai_request_model", "error_type"], registry=r,
        )
        self.retries = Counter(
            "routeur_upstream_retries", "Upstream attempts beyond the first, per request.",
            ["gen_ai_request_model"], registry=r,
        )
        self.fallbacks = Counter(
            "routeur_fallbacks", "Requests answered by another model than asked, and why.",
            ["gen_ai_request_model", "gen_ai_response_model", "reason"], registry=r,
        )
        self.cache_hits = Counter(
            "routeur_response_cache_hits", "Answers served from the response cache.",
            ["gen_ai_request_model"], registry=r,
        )
        self.rate_limit_decisions = Counter(
            "routeur_rate_limit_decisions",
            "Quota decisions on completions, by outcome and limit kind (requests, tokens, "
            "budget): a request admitted counts once per kind it was checked against; a "
            "refusal (before the call or mid-stream) once, on the kind that had no room.",
            ["decision", "limit"], registry=r,
        )
        self.job_transitions = Counter(
            "routeur_transcription_job_transitions",
            "Transcription jobs moved to a status by this instance (queued: created or given "
            "back; running: claimed by one of its workers; succeeded, failed, cancelled). "
            "Jobs are shared by every instance: sum over instances for the whole fleet.",
            ["status"], registry=r,
        )

    def watch_circuits(self, states: Callable[[], Mapping[str, Mapping[str, str]]]) -> None:
        """Expose `routeur_circuit_state` from `states()`: read at each scrape in one
        process; with several workers, published by `publish_circuits_every`."""
        if not os.environ.get(MULTIPROCESS_DIRECTORY):
            self.registry.register(_CircuitCollector(states))
            return
        self._circuit_states = states
        self._circuit_gauge = Gauge(
            "routeur_circuit_state", _CircuitCollector.HELP,
            _CircuitCollector.LABELS, registry=self.registry, multiprocess_mode="livemax",
        )

    async def publish_circuits_every(self, interval_s: float) -> None:
        """With several workers, write this worker's circuit states for the main process
        every `interval_s` (a breaker turns half-open with time alone). Runs until cancelled;
        returns at once in one process."""
        if self._circuit_gauge is None or self._circuit_states is None:
            return
        while True:
            for provider, models in self._circuit_states().items():
                for model, state in models.items():
                    self._circuit_gauge.labels(provider, model).set(
                        _CircuitCollector.VALUES.get(state, -1.0)
                    )
            await asyncio.sleep(interval_s)

    # --- Limits and jobs ------------------------------------------------------------------------
    def rate_limit_decision(self, decision: str, limit: str) -> None:
        """The quota `allowed` or `refused` a completion on a limit of kind `limit`."""
        self.rate_limit_decisions.labels(decision, limit).inc()

    def job_transition(self, status: str) -> None:
        """This instance moved a transcription job to `status`."""
        self.job_transitions.labels(status).inc()

    # --- RPC level ----------------------------------------------------------------------------
    def rpc_finished(self, method: str, status: str, duration_s: float) -> None:
        service, name = split_method(method)
        self.rpc_requests.labels(service, name, status).inc()
        self.rpc_duration.labels(service, name).observe(duration_s)

    def stream_started(self, method: str) -> None:
        self.inflight_streams.labels(*split_method(method)).inc()

    def stream_ended(self, method: str) -> None:
        self.inflight_streams.labels(*split_method(method)).dec()

    def first_message(self, method: str, delay_s: float) -> None:
        service, name = split_method(method)
        self.rpc_first_message.labels(service, name).observe(delay_s)
        if service.endswith("CompletionService") or name.startswith("Stream"):
            self.time_to_first_token.labels(name).observe(delay_s)

    # --- Model level ----------------------------------------------------------------------------
    def completion_accounted(
        self, provider: str, metadata: CompletionMetadata, owner_id: str = ""
    ) -> None:
        """One finished (or failed, or cancelled) completion's tokens, cost and carbon."""
        labels = [OPERATION_CHAT, provider or "unknown", metadata.model]
        if self.options.per_user_labels:
            labels.append(owner_id)
        usage = metadata.usage
        for token_type, count in (("input", usage.prompt_tokens),
                                  ("output", usage.completion_tokens)):
            self.token_usage.labels(*labels, token_type).observe(count)
            self.tokens_total.labels(*labels, token_type).inc(count)
        self.operation_duration.labels(*labels).observe(metadata.latency_s)
        if metadata.pricing is not None and metadata.pricing.total_cost > 0:
            self.cost.labels(*labels, metadata.pricing.currency).inc(metadata.pricing.total_cost)
        if metadata.emissions_kg_co2eq:
            self.emissions.labels(*labels).inc(metadata.emissions_kg_co2eq * 1000)
        requested = metadata.requested_model or metadata.model
        if metadata.cache_hit:
            self.cache_hits.labels(requested).inc()
        for attempt in metadata.attempts:
            if attempt.error_reason:
                self.upstream_errors.labels(
                    attempt.provider, attempt.model, attempt.error_reason
                ).inc()
        if len(metadata.attempts) > 1:
            self.retries.labels(requested).inc(len(metadata.attempts) - 1)
        if metadata.fallback_reason:
            self.fallbacks.labels(requested, metadata.model, metadata.fallback_reason).inc()

    # --- Exposition -------------------------------------------------------------------------------
    def exposition(self) -> tuple[bytes, str]:
        """The text format Prometheus scrapes, and its content type."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


class _CircuitCollector(Collector):
    """One gauge per provider instance and model: 0 closed, 1 half-open, 2 open."""

    VALUES = {"closed": 0.0, "half_open": 1.0, "open": 2.0}
    HELP = "Circuit breaker of each provider instance and model (0 closed, 1 half-open, 2 open)."
    LABELS = ("gen_ai_provider_name", "gen_ai_request_model")

    def __init__(self, states: Callable[[], Mapping[str, Mapping[str, str]]]) -> None:
        self._states = states

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily("routeur_circuit_state", self.HELP, labels=self.LABELS)
        for provider, models in self._states().items():
            for model, state in models.items():
                family.add_metric([provider, model], self.VALUES.get(state, -1.0))
        yield family


def split_method(method: str) -> tuple[str, str]:
    """`/routeur.v1.CompletionService/Complete` → (`routeur.v1.CompletionService`, `Complete`)."""
    service, _, name = method.lstrip("/").rpartition("/")
    return service or "unknown", name or method
