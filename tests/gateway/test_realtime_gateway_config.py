"""The Envoy configuration of the realtime WebSocket route, rendered from settings."""

from __future__ import annotations

import yaml
from support import server_settings

from routeur_grpc.gateway import envoy_process_for
from routeur_grpc.gateway.config import GatewayConfig, render_envoy_config


def _render(tmp_path, config: GatewayConfig) -> dict:  # type: ignore[no-untyped-def]
    return yaml.safe_load(render_envoy_config(config, tmp_path))


def _websocket_route(config: dict) -> dict:
    routes = config["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0][
        "typed_config"
    ]["route_config"]["virtual_hosts"][0]["routes"]
    return next(r for r in routes if r["match"].get("path") == "/realtime/ws")


def _websocket_cluster(config: dict) -> dict:
    clusters = config["static_resources"]["clusters"]
    return next(c for c in clusters if c["name"] == "routeur_websocket")


def _addresses(cluster: dict) -> list[str]:
    endpoints = cluster["load_assignment"]["endpoints"][0]["lb_endpoints"]
    return [
        "{address}:{port_value}".format(**e["endpoint"]["address"]["socket_address"])
        for e in endpoints
    ]


def test_the_websocket_path_is_upgraded_and_sent_to_the_websocket_endpoints(tmp_path):
    config = _render(
        tmp_path, GatewayConfig(websocket_upstreams=("routeur-a:50052", "10.0.0.2:50052"))
    )
    route = _websocket_route(config)
    assert route["route"]["cluster"] == "routeur_websocket"
    assert route["route"]["upgrade_configs"] == [{"upgrade_type": "websocket"}]
    # Not a gRPC call: the transcoder stays out of the way.
    assert route["typed_per_filter_config"]["envoy.filters.http.grpc_json_transcoder"][
        "disabled"
    ]
    cluster = _websocket_cluster(config)
    assert cluster["type"] == "STRICT_DNS"
    assert _addresses(cluster) == ["routeur-a:50052", "10.0.0.2:50052"]


def test_remote_servers_name_their_websocket_endpoints_in_settings(tmp_path):
    settings = server_settings(
        tmp_path,
        gateway_upstreams=["10.0.0.5:50051"],
        gateway_websocket_upstreams=["10.0.0.5:50052"],
    )
    config = GatewayConfig.from_settings(settings)
    assert config.websocket_upstreams == ("10.0.0.5:50052",)
    assert envoy_process_for(settings, websocket_port=6001).config.websocket_upstreams == (
        "10.0.0.5:50052",
    )


def test_the_local_endpoint_is_used_once_its_port_is_known(tmp_path):
    settings = server_settings(tmp_path, realtime_websocket_address="0.0.0.0:0")
    assert GatewayConfig.from_settings(settings).websocket_upstreams == ()
    process = envoy_process_for(settings, grpc_port=6000, websocket_port=6001)
    assert process.config.websocket_upstreams == ("127.0.0.1:6001",)
    fixed = server_settings(tmp_path, realtime_websocket_address="127.0.0.1:7002")
    assert GatewayConfig.from_settings(fixed).websocket_upstreams == ("127.0.0.1:7002",)


def test_without_websocket_endpoints_the_route_still_renders(tmp_path):
    cluster = _websocket_cluster(_render(tmp_path, GatewayConfig()))
    assert _addresses(cluster) == []
