"""Talking to providers: connection tests, model sync, Ollama models (list, pull, delete);
and no key in any log line, even when the provider fails."""

from __future__ import annotations

import logging

import grpc
import pytest
from fakes import FakeOllama, FakeOpenAI
from routeur.v1 import completion_service_pb2 as cpb
from routeur.v1 import completion_service_pb2_grpc as cpb_grpc
from routeur.v1 import provider_service_pb2 as pb

from .conftest import CONFIG_KEY, Admin

KEY = "sk-secret-never-logged-4242"


async def _openai(admin: Admin, fake: FakeOpenAI, **fields: object) -> pb.Provider:
    values: dict[str, object] = {
        "provider_type": "openai",
        "name": "OpenAI",
        "api_key": KEY,
        "base_url": f"{fake.url}/v1",
        "model": "gpt-4o-mini",
    }
    values.update(fields)
    return (
        await admin.stub.CreateProvider(
            pb.CreateProviderRequest(provider=pb.Provider(**values))  # type: ignore[arg-type]
        )
    ).provider


async def _ollama(admin: Admin, fake: FakeOllama) -> pb.Provider:
    return (
        await admin.stub.CreateProvider(
            pb.CreateProviderRequest(
                provider=pb.Provider(
                    provider_type="ollama_local",
                    name="Ollama",
                    base_url=fake.url,
                    model="llama3:8b",
                )
            )
        )
    ).provider


async def test_a_connection_test_reports_success_latency_and_models(
    admin: Admin, fake_openai: FakeOpenAI
):
    provider = await _openai(admin, fake_openai)
    result = await admin.stub.TestProvider(pb.TestProviderRequest(provider_id=provider.provider_id))
    assert result.ok and result.model == "gpt-4o-mini"
    assert result.latency_s > 0
    assert result.response_excerpt == fake_openai.reply_text
    assert list(result.models) == ["gpt-4o", "gpt-4o-mini"]
    prompt = fake_openai.requests_to("/chat/completions")[-1].json()
    assert 16 in (prompt.get("max_tokens"), prompt.get("max_completion_tokens"))


async def test_a_failing_provider_is_reported_and_no_key_reaches_the_logs(
    admin: Admin, fake_openai: FakeOpenAI, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.DEBUG)
    provider = await _openai(admin, fake_openai)
    fake_openai.fail_next(401, times=5)
    result = await admin.stub.TestProvider(pb.TestProviderRequest(provider_id=provider.provider_id))
    assert not result.ok and result.message
    fake_openai.fail_next(500, times=5)
    with pytest.raises(grpc.aio.AioRpcError):
        await cpb_grpc.CompletionServiceStub(admin.channel).Complete(
            cpb.CompleteRequest(message="Bonjour", model="gpt-4o-mini")
        )
    logged = "\n".join(f"{record.getMessage()} {record.__dict__}" for record in caplog.records)
    assert "OpenAI" in logged  # the provider was talked about...
    assert KEY not in logged and CONFIG_KEY not in logged  # ...never its key
    assert KEY not in result.message


async def test_sync_keeps_the_models_a_provider_serves(admin: Admin, fake_openai: FakeOpenAI):
    provider = await _openai(admin, fake_openai)
    synced = await admin.stub.SyncProviderModels(pb.SyncProviderModelsRequest())
    (result,) = synced.results
    assert result.ok and list(result.models) == ["gpt-4o", "gpt-4o-mini"]
    got = await admin.stub.GetProvider(pb.GetProviderRequest(provider_id=provider.provider_id))
    assert list(got.provider.models) == ["gpt-4o", "gpt-4o-mini"]


async def test_ollama_models_are_listed_pulled_with_progress_and_deleted(
    admin: Admin, fake_ollama: FakeOllama
):
    provider = await _ollama(admin, fake_ollama)
    listed = await admin.stub.ListOllamaModels(
        pb.ListOllamaModelsRequest(provider_id=provider.provider_id)
    )
    (model,) = listed.models
    assert model.name == "llama3:8b" and model.family == "llama" and model.size_mb > 4000

    steps = [
        step
        async for step in admin.stub.PullOllamaModel(
            pb.PullOllamaModelRequest(provider_id=provider.provider_id, model="qwen2:0.5b")
        )
    ]
    assert steps[0].status == "pulling manifest" and steps[-1].status == "success"
    assert [s.percent for s in steps if s.total_bytes] == [0, 50, 100]

    await admin.stub.DeleteOllamaModel(
        pb.DeleteOllamaModelRequest(provider_id=provider.provider_id, model="llama3:8b")
    )
    assert fake_ollama.installed == ["qwen2:0.5b"]
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await admin.stub.DeleteOllamaModel(
            pb.DeleteOllamaModelRequest(provider_id=provider.provider_id, model="llama3:8b")
        )
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION


async def test_ollama_operations_need_an_ollama_provider(admin: Admin, fake_openai: FakeOpenAI):
    provider = await _openai(admin, fake_openai)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await admin.stub.ListOllamaModels(
            pb.ListOllamaModelsRequest(provider_id=provider.provider_id)
        )
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await admin.stub.DeleteOllamaModel(
            pb.DeleteOllamaModelRequest(provider_id=provider.provider_id)
        )
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
