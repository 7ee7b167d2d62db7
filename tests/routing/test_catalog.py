"""The model catalog: built-in data, aliases, unknown names, operator overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from routeur_grpc.errors import InvalidArgument
from routeur_grpc.routing.catalog import CatalogError, ModelCatalog, load_catalog_file


@pytest.fixture(scope="module")
def catalog() -> ModelCatalog:
    return ModelCatalog.load()


def test_builtin_catalog_has_the_seed_models_and_prices(catalog: ModelCatalog) -> None:
    # The AI Providers page's provider table gives prices per 1K tokens; the catalog keeps them per million.
    gpt4 = catalog.resolve("gpt-4")
    assert (gpt4.input_price_per_million, gpt4.output_price_per_million) == (30.0, 60.0)
    assert gpt4.context_window == 8192
    sonnet = catalog.resolve("claude-3-5-sonnet")
    assert (sonnet.input_price_per_million, sonnet.output_price_per_million) == (3.0, 15.0)
    assert sonnet.upstream_model == "claude-3-5-sonnet-20241022"
    local = catalog.resolve("local/smollm2-135m-instruct")
    assert local.provider == "local" and local.input_price_per_million == 0
    for name in ("gpt-4o", "mistral-large-latest", "gemini-2.5-flash", "claude-haiku-4-5", "llama3:8b"):
        assert name in catalog


def test_aliases_resolve_to_the_entry(catalog: ModelCatalog) -> None:
    assert catalog.resolve("mistral-large").name == "mistral-large-latest"
    assert catalog.resolve("openai/gpt-4o").name == "gpt-4o"
    assert catalog.resolve("llama3:8b").upstream_model == "llama3:8b"


def test_unknown_model_names_it_and_points_to_list_models(catalog: ModelCatalog) -> None:
    with pytest.raises(InvalidArgument) as caught:
        catalog.resolve("gpt-4o-turbo-ultra")
    assert "gpt-4o-turbo-ultra" in caught.value.message
    assert "ListModels" in caught.value.message
    assert caught.value.metadata["model"] == "gpt-4o-turbo-ultra"


def test_emissions_names_default_from_the_provider(catalog: ModelCatalog) -> None:
    assert catalog.resolve("mistral-small-latest").emissions_provider == "mistralai"
    assert catalog.resolve("gemini-2.5-pro").emissions_provider == "google_genai"
    assert catalog.resolve("local/smollm2-135m-instruct").emissions_provider is None
    assert catalog.resolve("gpt-4").emissions_model == "gpt-4-0613"


def test_override_file_updates_adds_and_removes(tmp_path: Path) -> None:
    override = tmp_path / "catalog.toml"
    override.write_text(
        """
[[models]]
name = "gpt-4o"
input_price_per_million = 1.0

[[models]]
name = "gpt-4"
enabled = false

[[models]]
name = "vllm/qwen2.5-7b"
provider = "openai_compatible"
upstream_model = "Qwen/Qwen2.5-7B-Instruct"
input_price_per_million = 0
output_price_per_million = 0
currency = "EUR"

[fallbacks]
"gpt-4o" = ["vllm/qwen2.5-7b"]

[[deployments]]
model = "vllm/qwen2.5-7b"
provider = "vllm-a"
weight = 2
""",
        encoding="utf-8",
    )
    parsed = load_catalog_file(override)
    merged = ModelCatalog(parsed.models)
    assert merged.resolve("gpt-4o").input_price_per_million == 1.0
    assert merged.resolve("gpt-4o").output_price_per_million == 10.0  # kept
    assert "gpt-4" not in merged
    assert merged.resolve("vllm/qwen2.5-7b").upstream_model == "Qwen/Qwen2.5-7B-Instruct"
    assert parsed.fallbacks["gpt-4o"] == ("vllm/qwen2.5-7b",)
    assert parsed.fallbacks["gpt-4o-mini"] == ("mistral-small-latest",)  # kept
    assert parsed.deployments[0].weight == 2


@pytest.mark.parametrize(
    "text",
    [
        '[[models]]\nname = "x"\nprovider = "openai"\n',  # no prices
        '[[models]]\nname = "x"\nprovider = "carrier-pigeon"\ninput_price_per_million = 0\noutput_price_per_million = 0\n',
        '[[models]]\nname = "x"\nprovider = "openai"\ninput_price_per_million = 0\noutput_price_per_million = 0\naliases = ["gpt-4o"]\n',
        "[mystery]\n",
        "not toml [",
    ],
)
def test_bad_override_files_are_refused_with_the_file_named(tmp_path: Path, text: str) -> None:
    override = tmp_path / "bad.toml"
    override.write_text(text, encoding="utf-8")
    with pytest.raises(CatalogError) as caught:
        load_catalog_file(override)
    assert "bad.toml" in str(caught.value) or "gpt-4o" in str(caught.value)
