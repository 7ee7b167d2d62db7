"""Settings: typed, from ROUTEUR_* variables or a TOML file, refused with a clear message."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from routeur_grpc.settings import SettingsError, load_settings


@pytest.fixture
def environment(monkeypatch):
    """A clean ROUTEUR_* environment for the test."""
    for name in list(os.environ):
        if name.startswith("ROUTEUR_"):
            monkeypatch.delenv(name)
    return monkeypatch


def test_defaults_are_the_embedded_ones(environment):
    settings = load_settings()
    assert settings.grpc_address == "127.0.0.1:50051"
    assert settings.rest_port == 8080
    assert settings.store == "sqlite"
    assert settings.local_model_enabled
    assert settings.log_level == "INFO"


def test_environment_variables_override_defaults(environment):
    environment.setenv("ROUTEUR_GRPC_ADDRESS", "0.0.0.0:6000")
    environment.setenv("ROUTEUR_LOG_LEVEL", "debug")
    environment.setenv("ROUTEUR_DATA_DIR", "/tmp/elsewhere")
    settings = load_settings()
    assert settings.grpc_address == "0.0.0.0:6000"
    assert settings.log_level == "DEBUG"
    assert settings.data_dir == Path("/tmp/elsewhere")


def test_a_config_file_is_read_and_the_environment_wins(environment, tmp_path):
    config = tmp_path / "routeur.toml"
    config.write_text('rest_port = 9090\nlog_format = "text"\n')
    environment.setenv("ROUTEUR_CONFIG_FILE", str(config))
    environment.setenv("ROUTEUR_LOG_FORMAT", "json")
    settings = load_settings()
    assert settings.rest_port == 9090
    assert settings.log_format == "json"


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("ROUTEUR_GRPC_ADDRESS", "nowhere"),
        ("ROUTEUR_REST_PORT", "70000"),
        ("ROUTEUR_LOG_LEVEL", "chatty"),
        ("ROUTEUR_STORE", "postgres"),
        ("ROUTEUR_LOCAL_MODEL_INSTANCES", "0"),
        ("ROUTEUR_OTLP_ENDPOINT", "collector:4318"),
    ],
)
def test_an_invalid_setting_is_named_in_the_error(environment, variable, value):
    environment.setenv(variable, value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert variable in str(caught.value)
    assert repr(value).lower() in str(caught.value).lower()


def test_an_unknown_key_in_the_config_file_is_named(environment, tmp_path):
    config = tmp_path / "routeur.toml"
    config.write_text("grpc_adress = '127.0.0.1:1'\n")
    environment.setenv("ROUTEUR_CONFIG_FILE", str(config))
    with pytest.raises(SettingsError, match="grpc_adress: unknown setting"):
        load_settings()


def test_a_missing_config_file_is_named(environment, tmp_path):
    environment.setenv("ROUTEUR_CONFIG_FILE", str(tmp_path / "absent.toml"))
    with pytest.raises(SettingsError, match="no such file"):
        load_settings()


@pytest.mark.slow  # `serve` in another process
def test_serve_stops_at_once_on_invalid_settings():
    env = {**os.environ, "ROUTEUR_REST_PORT": "not-a-port"}
    result = subprocess.run(
        [sys.executable, "-m", "routeur_grpc", "serve"],
        env=env, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 2
    assert "ROUTEUR_REST_PORT" in result.stderr
    assert "Traceback" not in result.stderr



def test_remote_providers_come_from_the_config_file_and_keys_stay_secret(environment, tmp_path):
    config = tmp_path / "routeur.toml"
    config.write_text(
        '[[providers]]\nname = "openai"\ntype = "openai"\napi_key = "sk-very-secret"\n\n'
        '[[providers]]\nname = "vllm"\ntype = "openai_compatible"\n'
        'base_url = "http://10.0.0.7:8000/v1"\n'
    )
    environment.setenv("ROUTEUR_CONFIG_FILE", str(config))
    settings = load_settings()
    assert [(spec.name, spec.type) for spec in settings.providers] == [
        ("openai", "openai"), ("vllm", "openai_compatible")
    ]
    assert "sk-very-secret" not in repr(settings)
    assert settings.providers[0].api_key.get_secret_value() == "sk-very-secret"


@pytest.mark.parametrize(
    ("providers", "expected"),
    [
        ('[{"name": "vllm", "type": "openai_compatible", "api_key": "sk-hidden"}]',
         "needs base_url"),
        ('[{"name": "a", "type": "openai"}, {"name": "a", "type": "mistral"}]', "repeated: a"),
        ('[{"name": "x", "type": "bedrock", "api_key": "sk-hidden"}]', "ROUTEUR_PROVIDERS"),
    ],
    ids=["compatible-without-url", "duplicate-names", "unknown-type"],
)
def test_a_wrong_provider_is_explained_without_its_key(environment, providers, expected):
    environment.setenv("ROUTEUR_PROVIDERS", providers)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert expected in str(caught.value)
    assert "sk-hidden" not in str(caught.value)


def test_gateway_upstreams_must_be_host_and_port(environment):
    environment.setenv("ROUTEUR_GATEWAY_UPSTREAMS", '["10.0.0.5:50051", "nowhere"]')
    with pytest.raises(SettingsError, match="ROUTEUR_GATEWAY_UPSTREAMS.*nowhere"):
        load_settings()
