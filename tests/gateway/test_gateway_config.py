"""The Envoy configuration rendered from settings, without starting Envoy."""

from __future__ import annotations

import pytest
import yaml
from support import server_settings

from routeur_grpc.gateway.config import GatewayConfig, GatewayConfigError, render_envoy_config
from routeur_grpc.gateway.streaming import STREAM_SWITCHES


def _render(tmp_path, **fields):  # type: ignore[no-untyped-def]
    return yaml.safe_load(render_envoy_config(GatewayConfig(**fields), tmp_path))


def _transcoder(config: dict) -> dict:
    manager = config["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]
    filters = manager["typed_config"]["http_filters"]
    return next(f for f in filters if f["name"].endswith("grpc_json_transcoder"))["typed_config"]


def test_defaults_are_the_documented_ones(tmp_path):
    config = _render(tmp_path)
    assert config["admin"]["address"]["socket_address"]["address"] == "127.0.0.1"
    listener = config["static_resources"]["listeners"][0]["address"]["socket_address"]
    assert listener["port_value"] == 8080
    transcoder = _transcoder(config)
    assert transcoder["print_options"] == {
        "preserve_proto_field_names": True,
        "always_print_primitive_fields": True,
        "stream_sse_style_delimited": True,
    }
    assert transcoder["convert_grpc_status"] is True
    assert transcoder["request_validation_options"] == {
        "reject_unknown_method": True,
        "reject_unknown_query_parameters": True,
    }
    assert "routeur.v1.CompletionService" in transcoder["services"]
    assert "routeur.v1.OpenAICompatService" in transcoder["services"]
    cluster = config["static_resources"]["clusters"][0]
    assert cluster["lb_policy"] == "LEAST_REQUEST"  # streams last from ms to minutes
    assert "grpc_health_check" in cluster["health_checks"][0]


def test_several_upstreams_and_origins(tmp_path):
    config = _render(
        tmp_path,
        upstreams=("routeur-a:50051", "10.0.0.2:50051"),
        cors_origins=("http://localhost:4200", "https://app.example/"),
    )
    cluster = config["static_resources"]["clusters"][0]
    assert cluster["type"] == "STRICT_DNS"  # a host name among them
    endpoints = cluster["load_assignment"]["endpoints"][0]["lb_endpoints"]
    assert [e["endpoint"]["address"]["socket_address"]["address"] for e in endpoints] == [
        "routeur-a",
        "10.0.0.2",
    ]
    text = render_envoy_config(GatewayConfig(cors_origins=("https://app.example/",)), tmp_path)
    assert '{"exact": "https://app.example"}' in text


def test_the_stream_switches_reach_the_lua_filter(tmp_path):
    config = _render(tmp_path)
    routes = config["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0][
        "typed_config"
    ]["route_config"]["virtual_hosts"][0]["routes"]
    metadata = routes[-1]["metadata"]["filter_metadata"]["envoy.filters.http.lua"]
    assert metadata["stream_switches"] == dict(STREAM_SWITCHES)


def test_a_bad_upstream_is_named(tmp_path):
    with pytest.raises(GatewayConfigError, match="nowhere"):
        render_envoy_config(GatewayConfig(upstreams=("nowhere",)), tmp_path)


def test_settings_map_to_the_gateway(tmp_path):
    settings = server_settings(tmp_path, grpc_address="0.0.0.0:6000", rest_port=9000)
    config = GatewayConfig.from_settings(settings)
    assert config.upstreams == ("127.0.0.1:6000",)
    assert config.rest_port == 9000


def _manager(config: dict) -> dict:
    return config["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0][
        "typed_config"
    ]


def _collector(config: dict) -> dict:
    return next(c for c in config["static_resources"]["clusters"] if c["name"] == "otel_collector")


def test_no_tracing_without_a_collector(tmp_path):
    config = _render(tmp_path)
    assert _manager(config)["tracing"] is None
    assert _collector(config)["load_assignment"]["endpoints"][0]["lb_endpoints"] == []


def test_with_a_collector_envoy_traces_each_call_under_its_own_service_name(tmp_path):
    settings = server_settings(
        tmp_path,
        grpc_address="127.0.0.1:50051",
        otlp_endpoint="http://collector.internal:4318/",
        otel_service_name="routeur-eu",
    )
    config = yaml.safe_load(
        render_envoy_config(GatewayConfig.from_settings(settings), tmp_path)
    )
    tracing = _manager(config)["tracing"]
    tracer = tracing["provider"]["typed_config"]
    assert tracer["service_name"] == "routeur-eu-gateway"
    assert tracer["http_service"]["http_uri"]["uri"] == "http://collector.internal:4318/v1/traces"
    assert tracing["custom_tags"] == [
        {"tag": "routeur.request_id", "request_header": {"name": "x-request-id"}}
    ]
    collector = _collector(config)
    assert collector["type"] == "STRICT_DNS"
    address = collector["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]
    assert address["address"]["socket_address"] == {
        "address": "collector.internal",
        "port_value": 4318,
    }
    assert collector["transport_socket"] is None


def test_an_https_collector_is_reached_over_tls_and_checked(tmp_path):
    config = _render(tmp_path, otlp_endpoint="https://otlp.example.com/ingest")
    collector = _collector(config)
    address = collector["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]
    assert address["address"]["socket_address"]["port_value"] == 443
    tls = collector["transport_socket"]["typed_config"]
    assert tls["sni"] == "otlp.example.com"
    assert tls["common_tls_context"]["validation_context"]["trusted_ca"]["filename"]
    uri = _manager(config)["tracing"]["provider"]["typed_config"]["http_service"]["http_uri"]
    assert uri["uri"] == "https://otlp.example.com/ingest/v1/traces"


@pytest.mark.parametrize("endpoint", ["collector:4318", "http://", "http://collector:99999"])
def test_a_collector_url_that_is_not_one_is_named(tmp_path, endpoint):
    with pytest.raises(GatewayConfigError, match="ROUTEUR_OTLP_ENDPOINT"):
        render_envoy_config(GatewayConfig(otlp_endpoint=endpoint), tmp_path)


def test_request_ids_are_never_rewritten_by_envoy(tmp_path):
    extension = _manager(_render(tmp_path, otlp_endpoint="http://127.0.0.1:4318"))[
        "request_id_extension"
    ]["typed_config"]
    assert extension["pack_trace_reason"] is False
    assert extension["use_request_id_for_trace_sampling"] is False


def _virtual_hosts(config: dict) -> list[dict]:
    manager = config["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]
    return manager["typed_config"]["route_config"]["virtual_hosts"]


def test_only_local_host_names_are_answered_by_default(tmp_path):
    routeur, refused = _virtual_hosts(_render(tmp_path))
    assert sorted(routeur["domains"]) == ["127.0.0.1", "[::1]", "localhost"]
    assert refused["domains"] == ["*"]
    assert refused["routes"][0]["direct_response"]["status"] == 403


def test_public_names_are_added_and_the_listen_name_too(tmp_path):
    settings = server_settings(
        tmp_path, allowed_hosts=["localhost", "routeur.example.org"], rest_host="gateway.lan"
    )
    hosts = GatewayConfig.from_settings(settings).allowed_hosts
    assert hosts == ("localhost", "routeur.example.org", "gateway.lan")


def test_every_host_may_be_allowed_explicitly(tmp_path):
    routeur, refused = _virtual_hosts(_render(tmp_path, allowed_hosts=("*",)))
    assert routeur["domains"] == ["*"] and refused["domains"] != ["*"]


def test_credentials_are_never_allowed_from_any_origin(tmp_path):
    def cors(config: dict) -> dict:
        return _virtual_hosts(config)[0]["typed_per_filter_config"]["envoy.filters.http.cors"]

    assert cors(_render(tmp_path))["allow_credentials"] is True
    assert cors(_render(tmp_path, cors_origins=("*",)))["allow_credentials"] is False


def test_upload_routes_are_the_only_ones_taking_other_bodies(tmp_path):
    routeur = _virtual_hosts(_render(tmp_path))[0]
    metadata = routeur["routes"][-1]["metadata"]["filter_metadata"]["envoy.filters.http.lua"]
    assert "^/v1/audio/transcriptions$" in metadata["raw_body_paths"]
    assert "^/completion$" not in metadata["raw_body_paths"]
