"""What the REST gateway needs to know, and the Envoy configuration rendered from it.

`GatewayConfig` is the gateway's own typed view of the settings; `render_envoy_config` fills
the `envoy.yaml` template with it. Every path the template names (descriptor set, Lua
filter, OpenAPI document, Swagger UI files) is made absolute here, so Envoy can be started
from any directory.

The gateway's files are package data, in `routeur_grpc/gateway/assets/`: in a checkout
those are links to `envoy.yaml`, `gateway/` and `generated/routeur_v1.pb` (where they are
edited and built); a wheel holds copies, so an installed Routeur runs without a checkout.
"""

from __future__ import annotations

import ipaddress
import json
import string
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from google.protobuf import descriptor_pb2

from routeur_grpc.gateway.body_fields import API_PACKAGE, json_body_rules
from routeur_grpc.gateway.raw_bodies import raw_body_patterns
from routeur_grpc.gateway.streaming import STREAM_SWITCHES
from routeur_grpc.observability.tracing import REQUEST_ID_ATTRIBUTE, otlp_traces_url
from routeur_grpc.settings import Settings

ASSETS_DIR = Path(__file__).with_name("assets")
ENVOY_TEMPLATE = ASSETS_DIR / "envoy.yaml"
DESCRIPTOR_SET = ASSETS_DIR / "routeur_v1.pb"
REST_ADAPTER_LUA = ASSETS_DIR / "rest_adapter.lua"
OPENAPI_DOCUMENT = ASSETS_DIR / "openapi.json"
SWAGGER_UI_DIR = ASSETS_DIR / "swagger-ui"
SWAGGER_UI_FILES = ("index.html", "swagger-ui.css", "swagger-ui-bundle.js", "favicon-32x32.png")

DEFAULT_CORS_ORIGINS = ("http://localhost:4200", "http://127.0.0.1:4200")
DEFAULT_ALLOWED_HOSTS = ("localhost", "127.0.0.1", "[::1]")
#: Envoy waits this much longer than the server's default deadline, so that a call the
#: server ends at its deadline reaches the client as the server's own answer (a last SSE
#: event with `error`, or a JSON error) rather than as Envoy's bare timeout.
ROUTE_TIMEOUT_MARGIN_S = 5.0
#: How long Envoy waits for the trace collector to take a batch of spans.
OTLP_EXPORT_TIMEOUT = "2s"


class GatewayError(RuntimeError):
    """The REST gateway cannot run: bad configuration, or Envoy did not start in time."""


class GatewayConfigError(GatewayError):
    """The gateway cannot be configured as asked; the message says which value is wrong."""


@dataclass(frozen=True, slots=True)
class GatewayConfig:
    """Everything the Envoy configuration depends on."""

    upstreams: tuple[str, ...] = ("127.0.0.1:50051",)
    """host:port of each gRPC server; more than one share the calls (least request)."""
    listen_host: str = "127.0.0.1"
    rest_port: int = 8080
    """0 lets the system pick; `EnvoyProcess.rest_port` tells which."""
    admin_port: int = 9901
    """Admin interface, always on 127.0.0.1; 0 lets the system pick."""
    websocket_upstreams: tuple[str, ...] = ()
    """host:port of each server's realtime WebSocket endpoint (`/realtime/ws` is proxied to
    them with the upgrade); none: that path answers 503."""
    websocket_idle_timeout_s: float = 3600.0
    """A proxied WebSocket with no traffic this long is closed by Envoy (the server closes
    idle sessions sooner, by its own setting)."""
    cors_origins: tuple[str, ...] = DEFAULT_CORS_ORIGINS
    """Exact origins allowed to call from a browser; `*` allows any (without credentials)."""
    allowed_hosts: tuple[str, ...] = DEFAULT_ALLOWED_HOSTS
    """Host names (Host header, port aside) answered; others get 403, against DNS
    rebinding. `*` answers any."""
    health_check_interval_s: float = 2.0
    healthy_panic_threshold_percent: float = 0.0
    """Below this share of healthy upstreams, route to all of them regardless of health
    (100 for upstreams that do not serve grpc.health.v1)."""
    stream_idle_timeout_s: float = 305.0
    """Longest silence on a stream; aligned with `route_timeout_s` (a model may think
    silently up to the server's deadline before its first token)."""
    route_timeout_s: float = 305.0
    """Longest REST call without `grpc-timeout`: the server's default deadline + a margin.
    gRPC clients' own `grpc-timeout` is honoured instead."""
    max_request_body_bytes: int = 8 * 1024 * 1024
    max_response_body_bytes: int = 64 * 1024 * 1024
    max_request_headers_kb: int = 32
    """Larger request headers are refused by Envoy with HTTP 431 (the gRPC server's limit)."""
    max_concurrent_requests: int = 10_000
    """Envoy's circuit breaker towards the gRPC servers; beyond, 503 with Retry-After."""
    overload_retry_after_s: int = 1
    otlp_endpoint: str = ""
    """Base URL of an OTLP/HTTP trace collector (as `ROUTEUR_OTLP_ENDPOINT`): Envoy opens a
    span for each call it forwards, sends it there, and passes its `traceparent` on to the
    server, whose spans join the trace. Empty: no tracing."""
    otel_service_name: str = "routeur-gateway"
    """`service.name` of Envoy's spans."""
    descriptor_set: Path = DESCRIPTOR_SET
    openapi_document: Path = OPENAPI_DOCUMENT
    swagger_ui_dir: Path = SWAGGER_UI_DIR
    template: Path = ENVOY_TEMPLATE
    extra: dict[str, Any] = field(default_factory=dict)
    """Overrides of template values, for tests and experiments."""

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> GatewayConfig:
        """The gateway's view of Routeur's settings (see the `gateway_*` settings)."""
        values: dict[str, Any] = {
            "upstreams": tuple(settings.gateway_upstreams)
            or (local_upstream(settings.grpc_address),),
            "listen_host": settings.rest_host,
            "rest_port": settings.rest_port,
            "admin_port": settings.gateway_admin_port,
            "websocket_upstreams": tuple(settings.gateway_websocket_upstreams)
            or _local_websocket(settings.realtime_websocket_address),
            "websocket_idle_timeout_s": settings.realtime_idle_timeout_s + 60.0,
            "cors_origins": tuple(settings.cors_origins),
            "allowed_hosts": _allowed_hosts(settings.allowed_hosts, settings.rest_host),
            "health_check_interval_s": settings.gateway_health_check_interval_s,
            "route_timeout_s": settings.default_deadline_s + ROUTE_TIMEOUT_MARGIN_S,
            "stream_idle_timeout_s": settings.default_deadline_s + ROUTE_TIMEOUT_MARGIN_S,
            "max_request_headers_kb": settings.max_request_headers_kb,
            "max_concurrent_requests": settings.max_concurrent_calls,
            "otlp_endpoint": settings.otlp_endpoint,
            "otel_service_name": f"{settings.otel_service_name}-gateway",
        }
        values.update(overrides)
        return cls(**values)


def reachable_host(listen_host: str) -> str:
    """The address to reach, from this machine, a socket listening on `listen_host`."""
    host = listen_host.strip("[]")
    if host in ("0.0.0.0", ""):
        return "127.0.0.1"
    if host == "::":
        return "::1"
    return host


def local_upstream(grpc_address: str) -> str:
    """Where to reach a server listening on `grpc_address` from this machine."""
    host, _, port = grpc_address.rpartition(":")
    return f"{reachable_host(host)}:{port}"


def _local_websocket(address: str) -> tuple[str, ...]:
    """This process's WebSocket endpoint, when its port is fixed (port 0 is only known once
    bound: `envoy_process_for` passes it then)."""
    port = address.rpartition(":")[2]
    return (local_upstream(address),) if port.isdigit() and int(port) > 0 else ()


def api_services(descriptor_set: Path) -> list[str]:
    """Full names of every `routeur.v1` service in the descriptor set."""
    files = descriptor_pb2.FileDescriptorSet.FromString(descriptor_set.read_bytes()).file
    return [
        f"{file.package}.{service.name}"
        for file in files
        if file.package == API_PACKAGE
        for service in file.service
    ]


def _endpoint(address: str) -> dict[str, Any]:
    host, sep, port = address.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise GatewayConfigError(f"upstream {address!r}: expected host:port")
    return {
        "endpoint": {
            "address": {"socket_address": {"address": host.strip("[]"), "port_value": int(port)}}
        }
    }


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def _origins(origins: Sequence[str]) -> list[dict[str, str]]:
    if "*" in origins:
        return [{"safe_regex": {"regex": ".*"}}]  # type: ignore[list-item]
    return [{"exact": origin.rstrip("/")} for origin in origins]


def _allowed_hosts(configured: Sequence[str], rest_host: str) -> tuple[str, ...]:
    """The configured names, and the address the gateway listens on when it is a name."""
    hosts = [host.lower() for host in configured]
    listen = rest_host.lower()
    if listen not in ("0.0.0.0", "::", "[::]", "") and listen not in hosts:
        hosts.append(f"[{listen}]" if ":" in listen and not listen.startswith("[") else listen)
    return tuple(hosts)


def _tracing_values(config: GatewayConfig) -> dict[str, str]:
    """The connection manager's `tracing` (null: off) and the collector's cluster."""
    if not config.otlp_endpoint:
        return {"tracing": "null", "otlp_discovery": "STATIC", "otlp_endpoints": "[]",
                "otlp_transport_socket": "null"}
    parts = urlsplit(config.otlp_endpoint)
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        port = 0
    if parts.scheme not in ("http", "https") or not parts.hostname or not port:
        raise GatewayConfigError(
            f"ROUTEUR_OTLP_ENDPOINT={config.otlp_endpoint!r}: expected the base URL of an "
            "OTLP/HTTP collector, such as http://127.0.0.1:4318"
        )
    tracing = {
        "provider": {
            "name": "envoy.tracers.opentelemetry",
            "typed_config": {
                "@type": "type.googleapis.com/envoy.config.trace.v3.OpenTelemetryConfig",
                "service_name": config.otel_service_name,
                "http_service": {
                    "http_uri": {
                        "uri": otlp_traces_url(config.otlp_endpoint),
                        "cluster": "otel_collector",
                        "timeout": OTLP_EXPORT_TIMEOUT,
                    }
                },
            },
        },
        # The request id (the caller's x-request-id, or Envoy's) on the span, as on the
        # server's spans and log lines.
        "custom_tags": [{"tag": REQUEST_ID_ATTRIBUTE, "request_header": {"name": "x-request-id"}}],
    }
    transport_socket: dict[str, Any] | None = None
    if parts.scheme == "https":
        import certifi

        transport_socket = {
            "name": "envoy.transport_sockets.tls",
            "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3."
                "UpstreamTlsContext",
                "sni": parts.hostname,
                "common_tls_context": {
                    "validation_context": {"trusted_ca": {"filename": certifi.where()}}
                },
            },
        }
    return {
        "tracing": json.dumps(tracing),
        "otlp_discovery": "STATIC" if _is_ip(parts.hostname) else "STRICT_DNS",
        "otlp_endpoints": json.dumps([_endpoint(f"{parts.hostname}:{port}")]),
        "otlp_transport_socket": json.dumps(transport_socket),
    }


def _domains(hosts: Sequence[str]) -> list[str]:
    return ["*"] if "*" in hosts else sorted(set(hosts))


def _seconds(value: float) -> str:
    return f"{value:g}s"


def _docs_dir(config: GatewayConfig, work_dir: Path) -> Path:
    """The vendored Swagger UI, or a page saying how to vendor it."""
    if all((config.swagger_ui_dir / name).is_file() for name in SWAGGER_UI_FILES):
        return config.swagger_ui_dir
    stub = work_dir / "docs-missing"
    stub.mkdir(parents=True, exist_ok=True)
    for name in SWAGGER_UI_FILES:
        (stub / name).write_text("")
    (stub / "index.html").write_text(
        "<!doctype html><title>Routeur API</title><p>Swagger UI is not vendored in this "
        "checkout: run <code>make swagger-ui</code>. The OpenAPI document is at "
        '<a href="/openapi.json">/openapi.json</a>.</p>\n'
    )
    return stub


def _openapi_document(config: GatewayConfig, work_dir: Path) -> Path:
    """The document built with the contracts (`make protos`), shipped with the package."""
    if config.openapi_document.is_file():
        return config.openapi_document
    raise GatewayConfigError(
        f"the OpenAPI document {config.openapi_document} is missing: run `make openapi`"
    )


def template_values(config: GatewayConfig, work_dir: Path) -> dict[str, str]:
    """Each ${placeholder} of envoy.yaml, as YAML text (JSON for lists and maps)."""
    if not config.upstreams:
        raise GatewayConfigError("no upstream gRPC server to forward to")
    if not config.descriptor_set.is_file():
        raise GatewayConfigError(
            f"descriptor set {config.descriptor_set} is missing: run `make protos`"
        )
    hosts = [address.rpartition(":")[0] for address in config.upstreams]
    values = {
        "admin_port": str(config.admin_port),
        "listen_host": config.listen_host,
        "rest_port": str(config.rest_port),
        "stream_idle_timeout": _seconds(config.stream_idle_timeout_s),
        "route_timeout": _seconds(config.route_timeout_s),
        "cors_origins": json.dumps(_origins(config.cors_origins)),
        # Credentials (the Authorization header) only from origins named one by one.
        "cors_allow_credentials": "false" if "*" in config.cors_origins else "true",
        "allowed_domains": json.dumps(_domains(config.allowed_hosts)),
        # `*` twice would be refused by Envoy: with every host allowed, refuse none.
        "refused_domains": json.dumps(
            ["refused-host.invalid"] if "*" in config.allowed_hosts else ["*"]
        ),
        "raw_body_paths": json.dumps(raw_body_patterns(config.descriptor_set)),
        "docs_dir": str(_docs_dir(config, work_dir)),
        "openapi_document": str(_openapi_document(config, work_dir)),
        "stream_switches": json.dumps(dict(STREAM_SWITCHES)),
        "json_bodies": json.dumps(json_body_rules(config.descriptor_set)),
        "rest_adapter_lua": str(REST_ADAPTER_LUA),
        "descriptor_set": str(config.descriptor_set.resolve()),
        "services": json.dumps(api_services(config.descriptor_set)),
        "max_request_body_bytes": str(config.max_request_body_bytes),
        "max_response_body_bytes": str(config.max_response_body_bytes),
        "max_request_headers_kb": str(config.max_request_headers_kb),
        "max_concurrent_requests": str(config.max_concurrent_requests),
        "overload_retry_after_s": str(config.overload_retry_after_s),
        "upstream_discovery": "STATIC" if all(map(_is_ip, hosts)) else "STRICT_DNS",
        "upstream_endpoints": json.dumps([_endpoint(address) for address in config.upstreams]),
        "health_check_interval": _seconds(config.health_check_interval_s),
        "websocket_discovery": (
            "STATIC"
            if all(_is_ip(a.rpartition(":")[0]) for a in config.websocket_upstreams)
            else "STRICT_DNS"
        ),
        "websocket_endpoints": json.dumps(
            [_endpoint(address) for address in config.websocket_upstreams]
        ),
        "websocket_idle_timeout": _seconds(config.websocket_idle_timeout_s),
        "healthy_panic_threshold": f"{config.healthy_panic_threshold_percent:g}",
        **_tracing_values(config),
    }
    values.update({key: str(value) for key, value in config.extra.items()})
    return values


def render_envoy_config(config: GatewayConfig, work_dir: Path) -> str:
    """envoy.yaml with every placeholder filled; `work_dir` receives any generated file."""
    template = string.Template(config.template.read_text(encoding="utf-8"))
    try:
        return template.substitute(template_values(config, work_dir))
    except KeyError as missing:
        raise GatewayConfigError(
            f"{config.template}: no value for ${{{missing.args[0]}}}"
        ) from None
