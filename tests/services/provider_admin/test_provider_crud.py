"""Provider administration: create, read, change, toggle, delete; keys encrypted and masked;
configuration-file providers read-only; bad input refused with a clear status."""

from __future__ import annotations

import grpc
import pytest
from google.protobuf import field_mask_pb2
from routeur.v1 import provider_service_pb2 as pb
from support import error_info

from .conftest import CONFIG_KEY, Admin

KEY = "sk-proj-abcdefghijklmnop1234"


async def _create(admin: Admin, **fields: object) -> pb.Provider:
    values: dict[str, object] = {
        "provider_type": "openai",
        "name": "OpenAI EU",
        "api_key": KEY,
        "base_url": "http://127.0.0.1:9/v1",
        "model": "gpt-4o-mini",
    }
    values.update(fields)
    response = await admin.stub.CreateProvider(
        pb.CreateProviderRequest(provider=pb.Provider(**values))  # type: ignore[arg-type]
    )
    return response.provider


async def test_a_created_provider_is_stored_encrypted_and_read_masked(admin: Admin):
    created = await _create(admin, config=pb.ProviderOptions(temperature=0.2, timeout=30))
    assert created.provider_id and created.api_key == ""
    assert created.api_key_masked == "sk-...1234"
    assert created.config.temperature == 0.2 and created.config.timeout == 30
    stored = await admin.server.server.app.store.providers.get(created.provider_id)
    assert stored.api_key_ciphertext and KEY not in stored.api_key_ciphertext
    got = (
        await admin.stub.GetProvider(pb.GetProviderRequest(provider_id=created.provider_id))
    ).provider
    listed = (await admin.stub.ListProviders(pb.ListProvidersRequest())).providers
    for message in (got, *listed):
        assert KEY not in str(message) and CONFIG_KEY not in str(message)
    assert [p.name for p in listed] == ["from-config", "OpenAI EU"]


async def test_configuration_file_providers_are_listed_read_only(admin: Admin):
    listed = (await admin.stub.ListProviders(pb.ListProvidersRequest())).providers
    configured = listed[0]
    assert configured.read_only and configured.provider_type == "mistral"
    assert configured.api_key_masked == "sk-...9876"
    for call in (
        admin.stub.DeleteProvider(pb.DeleteProviderRequest(provider_id=configured.provider_id)),
        admin.stub.ToggleProvider(pb.ToggleProviderRequest(provider_id=configured.provider_id)),
        admin.stub.UpdateProvider(pb.UpdateProviderRequest(provider=configured)),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await call
        assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert "configuration file" in caught.value.details()
        assert error_info(caught.value).reason == "PROVIDER_READ_ONLY"


async def test_update_toggle_and_delete(admin: Admin):
    created = await _create(admin)
    renamed = (
        await admin.stub.UpdateProvider(
            pb.UpdateProviderRequest(
                provider=pb.Provider(provider_id=created.provider_id, name="OpenAI US"),
                update_mask=field_mask_pb2.FieldMask(paths=["name"]),
            )
        )
    ).provider
    assert renamed.name == "OpenAI US" and renamed.api_key_masked == "sk-...1234"
    assert renamed.base_url == created.base_url
    # A whole-object update without a key keeps the stored key.
    replaced = (
        await admin.stub.UpdateProvider(
            pb.UpdateProviderRequest(
                provider=pb.Provider(
                    provider_id=created.provider_id,
                    provider_type="openai",
                    name="OpenAI US",
                    base_url="https://api.example.com/v1",
                    enabled=True,
                ),
            )
        )
    ).provider
    assert (
        replaced.api_key_masked == "sk-...1234"
        and replaced.base_url == "https://api.example.com/v1"
    )
    rekeyed = (
        await admin.stub.UpdateProvider(
            pb.UpdateProviderRequest(
                provider=pb.Provider(
                    provider_id=created.provider_id, api_key="sk-other-key-000000005678"
                ),
                update_mask=field_mask_pb2.FieldMask(paths=["api_key"]),
            )
        )
    ).provider
    assert rekeyed.api_key_masked == "sk-...5678"

    off = (
        await admin.stub.ToggleProvider(pb.ToggleProviderRequest(provider_id=created.provider_id))
    ).provider
    assert not off.enabled
    on = (
        await admin.stub.ToggleProvider(
            pb.ToggleProviderRequest(provider_id=created.provider_id, enabled=True)
        )
    ).provider
    assert on.enabled

    await admin.stub.DeleteProvider(pb.DeleteProviderRequest(provider_id=created.provider_id))
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await admin.stub.GetProvider(pb.GetProviderRequest(provider_id=created.provider_id))
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND


@pytest.mark.parametrize(
    ("fields", "code", "words"),
    [
        ({"provider_type": "skynet"}, grpc.StatusCode.INVALID_ARGUMENT, "unknown"),
        ({"provider_type": "local"}, grpc.StatusCode.INVALID_ARGUMENT, "embedded model"),
        ({"name": "  "}, grpc.StatusCode.INVALID_ARGUMENT, "`name` is empty"),
        ({"base_url": "ftp://files.example.com"}, grpc.StatusCode.INVALID_ARGUMENT, "http"),
        ({"base_url": "http:///v1"}, grpc.StatusCode.INVALID_ARGUMENT, "host"),
        (
            {"base_url": "https://user:pw@api.example.com"},
            grpc.StatusCode.INVALID_ARGUMENT,
            "credentials",
        ),
        (
            {"provider_type": "openai_compatible", "base_url": ""},
            grpc.StatusCode.INVALID_ARGUMENT,
            "required",
        ),
        ({"name": "from-config"}, grpc.StatusCode.ALREADY_EXISTS, "configuration file"),
        (
            {"config": pb.ProviderOptions(temperature=7)},
            grpc.StatusCode.INVALID_ARGUMENT,
            "temperature",
        ),
    ],
)
async def test_bad_providers_are_refused_with_a_clear_error(
    admin: Admin, fields: dict[str, object], code: grpc.StatusCode, words: str
):
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await _create(admin, **fields)
    assert caught.value.code() == code
    assert words in caught.value.details()
    assert KEY not in caught.value.details()


async def test_a_taken_name_is_already_exists(admin: Admin):
    await _create(admin)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await _create(admin)
    assert caught.value.code() == grpc.StatusCode.ALREADY_EXISTS


async def test_claude_is_read_as_anthropic_and_defaults_are_created_once(admin: Admin):
    claude = await _create(admin, provider_type="claude", name="Claude", base_url="")
    assert claude.provider_type == "anthropic"
    first = await admin.stub.InitializeDefaultProviders(pb.InitializeDefaultProvidersRequest())
    assert {p.name for p in first.created} >= {"OpenAI", "Ollama Local"}
    assert all(not p.enabled for p in first.created)
    again = await admin.stub.InitializeDefaultProviders(pb.InitializeDefaultProvidersRequest())
    assert list(again.created) == [] and set(again.skipped) == {p.name for p in first.created}


async def test_private_addresses_can_be_forbidden(tmp_path):  # type: ignore[no-untyped-def]
    from routeur.v1 import provider_service_pb2_grpc as pb_grpc
    from support import open_channel, start_server

    from .conftest import admin_settings

    running = await start_server(admin_settings(tmp_path, provider_urls_public_only=True))
    try:
        async with open_channel(running.address) as channel:
            stub = pb_grpc.ProviderServiceStub(channel)
            for url in (
                "http://127.0.0.1:11434",
                "http://10.1.2.3/v1",
                "http://[::1]:8000/v1",
                "http://169.254.169.254/latest",
            ):
                with pytest.raises(grpc.aio.AioRpcError) as caught:
                    await stub.CreateProvider(
                        pb.CreateProviderRequest(
                            provider=pb.Provider(
                                provider_type="openai_compatible", name="internal", base_url=url
                            )
                        )
                    )
                assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
                assert "non-public" in caught.value.details()
    finally:
        await running.server.stop(0.5)
