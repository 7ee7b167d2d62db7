"""Ollama specifics: installed models, pulls with progress, deletes, a remote key."""

from __future__ import annotations

import pytest
from fakes import FakeOllama

from routeur_grpc.domain.completion import ChatMessage
from routeur_grpc.errors import FailedPrecondition, ResourceExhausted
from routeur_grpc.providers.base import ChatRequest
from routeur_grpc.providers.ollama_chat import OllamaProvider
from routeur_grpc.providers.upstream_errors import REASON_CREDENTIALS, REASON_MODEL_NOT_FOUND

from .streams import collect


async def test_pull_reports_progress_then_the_model_is_listed(fake_ollama: FakeOllama) -> None:
    provider = OllamaProvider("ollama_local", base_url=fake_ollama.url)
    try:
        steps = [step async for step in provider.pull("qwen2:0.5b")]
        names = [model.name for model in await provider.list_models()]
    finally:
        await provider.aclose()
    assert steps[0].status == "pulling manifest" and steps[-1].status == "success"
    downloads = [s for s in steps if s.total]
    assert [s.completed for s in downloads] == [0, 50, 100]
    assert "qwen2:0.5b" in names


async def test_delete_removes_a_model_and_unknown_models_are_reported(fake_ollama: FakeOllama) -> None:
    provider = OllamaProvider("ollama_local", base_url=fake_ollama.url)
    try:
        await provider.delete("llama3:8b")
        assert await provider.list_models() == []
        with pytest.raises(FailedPrecondition) as caught:
            await provider.delete("llama3:8b")
    finally:
        await provider.aclose()
    assert caught.value.reason == REASON_MODEL_NOT_FOUND


async def test_chat_with_a_model_not_pulled_says_so(fake_ollama: FakeOllama) -> None:
    provider = OllamaProvider("ollama_local", base_url=fake_ollama.url)
    try:
        with pytest.raises(FailedPrecondition) as caught:
            await collect(provider.stream_chat(ChatRequest("mistral:7b", [ChatMessage("user", "hi")])))
    finally:
        await provider.aclose()
    assert "mistral:7b" in caught.value.message and "pull" in caught.value.message


async def test_remote_ollama_sends_its_key(fake_ollama: FakeOllama) -> None:
    fake_ollama.required_api_key = "remote-secret"
    good = OllamaProvider("ollama_cloud", base_url=fake_ollama.url, api_key="remote-secret")
    bad = OllamaProvider("ollama_cloud", base_url=fake_ollama.url, api_key="wrong")
    try:
        result = await good.complete_chat(ChatRequest("llama3:8b", [ChatMessage("user", "hi")]))
        assert result.text == fake_ollama.reply_text
        with pytest.raises(FailedPrecondition) as caught:
            await bad.list_models()
    finally:
        await good.aclose()
        await bad.aclose()
    assert caught.value.reason == REASON_CREDENTIALS
    assert "remote-secret" not in caught.value.message and "wrong" not in caught.value.message


async def test_rate_limit_keeps_retry_after_although_the_client_drops_headers(
    fake_ollama: FakeOllama,
) -> None:
    fake_ollama.fail_next(429, retry_after="12")
    provider = OllamaProvider("ollama_cloud", base_url=fake_ollama.url)
    try:
        with pytest.raises(ResourceExhausted) as caught:
            await provider.complete_chat(ChatRequest("llama3:8b", [ChatMessage("user", "hi")]))
    finally:
        await provider.aclose()
    assert caught.value.retry_after_s == 12
