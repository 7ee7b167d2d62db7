"""What the server says about itself: each configured provider and its circuit in the
health report, and OpenAI's `/v1/models` (its gRPC method) listing what can answer here."""

from __future__ import annotations

import grpc
import pytest
from routeur.v1 import completion_service_pb2 as pb
from routeur.v1 import completion_service_pb2_grpc as pb_grpc
from routeur.v1 import health_service_pb2, health_service_pb2_grpc
from routeur.v1 import openai_compat_service_pb2, openai_compat_service_pb2_grpc

from .conftest import EndToEnd


async def components(e2e: EndToEnd) -> dict[str, tuple[str, str]]:
    stub = health_service_pb2_grpc.HealthServiceStub(e2e.channel)
    report = await stub.GetHealth(health_service_pb2.GetHealthRequest(), timeout=5)
    return {c.name: (c.status, c.message) for c in report.components}


async def test_health_reports_each_provider_and_its_circuit(e2e: EndToEnd) -> None:
    before = await components(e2e)
    for name in ("openai", "mistral", "anthropic", "gemini", "ollama_local"):
        status, message = before[f"provider:{name}"]
        assert status == "healthy" and "circuit closed" in message
    e2e.fakes["gemini"].fail_next(500, times=3)  # the breaker opens after three failures
    with pytest.raises(grpc.aio.AioRpcError):
        await pb_grpc.CompletionServiceStub(e2e.channel).Complete(
            pb.CompleteRequest(message="hi", model="gemini-2.5-pro"), timeout=10
        )
    status, message = (await components(e2e))["provider:gemini"]
    assert status == "unhealthy" and "circuit open" in message and "gemini-2.5-pro" in message


async def test_openai_models_lists_only_what_can_answer_here(e2e: EndToEnd) -> None:
    stub = openai_compat_service_pb2_grpc.OpenAICompatServiceStub(e2e.channel)
    listing = await stub.ListOpenAIModels(
        openai_compat_service_pb2.ListOpenAIModelsRequest(), timeout=5
    )
    names = {model.id for model in listing.data}
    assert "gpt-4o" in names and "mistral-large-latest" in names
    assert "local/smollm2-135m-instruct" not in names  # the embedded model is off here
