"""Envoy's timeouts are aligned with the server's default deadline, so that a late call is
ended by the server (with an answer the client can read), never cut by Envoy first."""

from __future__ import annotations

import yaml
from support import server_settings

from routeur_grpc.gateway.config import (
    ROUTE_TIMEOUT_MARGIN_S,
    GatewayConfig,
    render_envoy_config,
)


def test_route_and_idle_timeouts_follow_the_default_deadline(tmp_path):
    settings = server_settings(tmp_path, default_deadline_s=42.0, grpc_address="127.0.0.1:50051")
    rendered = yaml.safe_load(
        render_envoy_config(GatewayConfig.from_settings(settings), tmp_path)
    )
    manager = rendered["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]
    typed = manager["typed_config"]
    expected = f"{42.0 + ROUTE_TIMEOUT_MARGIN_S:g}s"
    assert typed["stream_idle_timeout"] == expected
    api_route = typed["route_config"]["virtual_hosts"][0]["routes"][-1]["route"]
    assert api_route["timeout"] == expected
    # A gRPC client's own deadline (grpc-timeout) is honoured instead.
    assert api_route["max_stream_duration"]["grpc_timeout_header_max"] == "0s"


def test_the_defaults_give_envoy_more_time_than_the_server(tmp_path):
    settings = server_settings(tmp_path)
    config = GatewayConfig.from_settings(settings)
    assert config.route_timeout_s > settings.default_deadline_s
    assert config.stream_idle_timeout_s > settings.default_deadline_s
