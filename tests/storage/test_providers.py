"""Contract: provider configurations (global admin resources), on every store."""

from __future__ import annotations

import pytest

from routeur_grpc.domain.repositories import Store
from routeur_grpc.errors import AlreadyExists, InvalidArgument, NotFound


async def test_a_provider_can_be_read_by_id_and_by_name(store: Store) -> None:
    created = await store.providers.create(
        provider_type="openai",
        name="OpenAI GPT-4",
        base_url="https://api.openai.com/v1",
        api_key_ciphertext="gAAAA-opaque",
        default_model="gpt-4-turbo",
        config={"temperature": 0.7, "max_tokens": 4096, "timeout": 30},
    )

    assert created.enabled and created.config["max_tokens"] == 4096
    assert await store.providers.get(created.provider_id) == created
    assert await store.providers.get_by_name("OpenAI GPT-4") == created


async def test_provider_names_are_unique(store: Store) -> None:
    await store.providers.create(provider_type="openai", name="main")
    other = await store.providers.create(provider_type="mistral", name="other")

    with pytest.raises(AlreadyExists, match="main"):
        await store.providers.create(provider_type="claude", name="main")
    with pytest.raises(AlreadyExists, match="main"):
        await store.providers.update(other.provider_id, name="main")


async def test_providers_are_listed_by_name_optionally_only_the_enabled_ones(store: Store) -> None:
    await store.providers.create(provider_type="ollama_local", name="b-ollama", enabled=False)
    await store.providers.create(provider_type="openai", name="a-openai")
    await store.providers.create(provider_type="gemini", name="c-gemini")

    assert [p.name for p in await store.providers.list()] == ["a-openai", "b-ollama", "c-gemini"]
    enabled = await store.providers.list(enabled_only=True)
    assert [p.name for p in enabled] == ["a-openai", "c-gemini"]


async def test_update_changes_only_the_fields_given(store: Store) -> None:
    created = await store.providers.create(
        provider_type="openai", name="main", default_model="gpt-4", config={"timeout": 30}
    )

    updated = await store.providers.update(
        created.provider_id, default_model="gpt-4o", config={"timeout": 60}
    )

    assert (updated.name, updated.provider_type) == ("main", "openai")
    assert (updated.default_model, updated.config) == ("gpt-4o", {"timeout": 60})
    assert updated.update_time >= created.update_time
    assert await store.providers.get(created.provider_id) == updated


async def test_a_provider_can_be_disabled_and_enabled_again(store: Store) -> None:
    created = await store.providers.create(provider_type="openai", name="main")

    assert not (await store.providers.set_enabled(created.provider_id, False)).enabled
    assert (await store.providers.set_enabled(created.provider_id, True)).enabled


async def test_a_deleted_provider_is_gone(store: Store) -> None:
    created = await store.providers.create(provider_type="openai", name="main")

    await store.providers.delete(created.provider_id)

    with pytest.raises(NotFound):
        await store.providers.get(created.provider_id)
    with pytest.raises(NotFound):
        await store.providers.get_by_name("main")
    with pytest.raises(NotFound):
        await store.providers.update(created.provider_id, name="again")
    with pytest.raises(NotFound):
        await store.providers.delete(created.provider_id)
    # The name is free again.
    await store.providers.create(provider_type="openai", name="main")


@pytest.mark.parametrize(
    "fields",
    [
        {"provider_type": "", "name": "x"},
        {"provider_type": "openai", "name": ""},
        {"provider_type": "openai", "name": {"$ne": None}},
        {"provider_type": "openai", "name": "x", "config": {"bad": float("nan")}},
        {"provider_type": "openai", "name": "x", "enabled": "yes"},
    ],
)
async def test_provider_fields_are_checked(store: Store, fields: dict[str, object]) -> None:
    with pytest.raises(InvalidArgument):
        await store.providers.create(**fields)  # type: ignore[arg-type]
