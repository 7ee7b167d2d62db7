"""What the REST gateway needs to know, and the Envoy configuration rendered from it.

`GatewayConfig` is the gateway's own typed view of the settings; `render_envoy_config` fills
the top-level `envoy.yaml` template with it. Every path the template names (descriptor set,
Lua filter, OpenAPI document, Swagger UI files) is made absolute here, so Envoy can be
started from any directory.
"""

from __future__ import annotations

import ipaddress
import json
import string
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from google.protobuf import descriptor_pb2

from routeur_grpc.gateway.openapi import API_PACKAGE
from routeur_grpc.gateway.streaming import STREAM_SWITCHES
from routeur_grpc.settings import Settings

PROJECT_ROOT = Path(__file__).resolve().parents[2]
ENVOY_TEMPLATE = PROJECT_ROOT / "envoy.yaml"
GATEWAY_DIR = PROJECT_ROOT / "gateway"
DESCRIPTOR_SET = PROJECT_ROOT / "generated" / "routeur_v1.pb"
REST_ADAPTER_LUA = GATEWAY_DIR / "rest_adapter.lua"
OPENAPI_DOCUMENT = GATEWAY_DIR / "openapi.json"
SWAGGER_UI_DIR = GATEWAY_DIR / "swagger-ui"
SWAGGER_UI_FILES = ("index.html", "swagger-ui.css", "swagger-ui-bundle.js", "favicon-32x32.png")

DEFAULT_CORS_ORIGINS = ("http://localhost:4200",)


class GatewayError(RuntimeError):
    """The REST gateway cannot run: bad configuration, or Envoy did not start in time."""


class GatewayConfigError(GatewayError):
    """The gateway cannot be configured as asked; the message says which value is wrong."""


@dataclass(frozen=True, slots=True)
class GatewayConfig:
    """Everything the Envoy configuration depends on."""

    upstreams: tuple[str, ...] = ("127.0.0.1:50051",)
    """host:port of each gRPC server; more than one are balanced round robin."""
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
    """Exact origins allowed to call from a browser; `*` allows any."""
    health_check_interval_s: float = 2.0
    healthy_panic_threshold_percent: float = 0.0
    """Below this share of healthy upstreams, route to all of them regardless of health
    (100 for upstreams that do not serve grpc.health.v1)."""
    stream_idle_timeout_s: float = 300.0
    max_request_body_bytes: int = 8 * 1024 * 1024
    max_response_body_bytes: int = 64 * 1024 * 1024
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
            "health_check_interval_s": settings.gateway_health_check_interval_s,
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
    """The built document, or one generated now when the build did not make it."""
    if config.openapi_document.is_file():
        return config.openapi_document
    from routeur_grpc.gateway.openapi import render

    generated = work_dir / "openapi.json"
    generated.write_text(render(config.descriptor_set), encoding="utf-8")
    return generated


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
        "cors_origins": json.dumps(_origins(config.cors_origins)),
        "docs_dir": str(_docs_dir(config, work_dir)),
        "openapi_document": str(_openapi_document(config, work_dir)),
        "stream_switches": json.dumps(dict(STREAM_SWITCHES)),
        "rest_adapter_lua": str(REST_ADAPTER_LUA),
        "descriptor_set": str(config.descriptor_set.resolve()),
        "services": json.dumps(api_services(config.descriptor_set)),
        "max_request_body_bytes": str(config.max_request_body_bytes),
        "max_response_body_bytes": str(config.max_response_body_bytes),
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
