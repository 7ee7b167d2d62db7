"""Honest routing, without the transport: who answers, what the answer says about it, and
what counts against a deployment.

Same scripted providers and fake clock as test_router.py.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from routeur_grpc.accounting.ledger import UsageLedger
from routeur_grpc.domain.completion import CompletionRequest
from routeur_grpc.errors import (
    BudgetExceeded,
    DeadlineExceeded,
    FailedPrecondition,
    InvalidArgument,
    RateLimited,
    Unavailable,
)
from routeur_grpc.providers.sampling import REASON_UNSUPPORTED_PARAMETER
from routeur_grpc.routing.circuit_breaker import BreakerState
from routeur_grpc.routing.retry import RetryPolicy
from routeur_grpc.routing.router import ModelRouter, RouterConfig

from .test_router import ScriptedProvider, chunks_of, router_over


async def test_a_model_without_a_configured_provider_names_the_setting_to_add() -> None:
    mistral = ScriptedProvider("mistral", ["m"])
    router, records, _ = router_over(mistral, types={"mistral": "mistral"})
    with pytest.raises(FailedPrecondition) as caught:
        await chunks_of(router, "gpt-4o")  # its chain's mistral-large-latest is configured
    assert caught.value.reason == "MODEL_NOT_CONFIGURED"
    assert "ROUTEUR_PROVIDERS" in caught.value.message and "'openai'" in caught.value.message
    assert mistral.calls == [], "never answered by another model behind the caller's back"
    assert records[-1].outcome == "failed"


async def test_the_caller_may_allow_the_fallback_and_is_told_who_answered() -> None:
    mistral = ScriptedProvider("mistral", ["m"])
    router, _, _ = router_over(mistral, types={"mistral": "mistral"})
    *_, last = await chunks_of(router, "gpt-4o", allow_fallback=True)
    assert last.error is None
    assert last.metadata.model == "mistral-large-latest"
    assert last.metadata.requested_model == "gpt-4o"
    assert last.metadata.fallback_reason == "MODEL_NOT_CONFIGURED"
    assert [(a.model, a.provider, a.error_reason) for a in last.metadata.attempts] == [
        ("mistral-large-latest", "mistral", "")
    ]


async def test_the_catalog_may_allow_the_fallback(tmp_path: Path) -> None:
    override = tmp_path / "catalog.toml"
    override.write_text(
        '[[models]]\nname = "gpt-4o"\nfallback_if_unconfigured = true\n', encoding="utf-8"
    )
    router, _, _ = router_over(
        ScriptedProvider("mistral", ["m"]), types={"mistral": "mistral"}, catalog_file=override
    )
    *_, last = await chunks_of(router, "gpt-4o")
    assert last.metadata.model == "mistral-large-latest"
    assert last.metadata.fallback_reason == "MODEL_NOT_CONFIGURED"


async def test_the_embedded_model_is_never_an_implicit_fallback() -> None:
    openai = ScriptedProvider("openai", [], [Unavailable("down")] * 5)
    local = ScriptedProvider("local", ["x"], models=["local/smollm2-135m-instruct"])
    router, _, _ = router_over(openai, local, types={"openai": "openai", "local": "local"})
    await router.start()
    with pytest.raises(Unavailable):
        await chunks_of(router, "gpt-4o-mini", allow_fallback=True)
    assert local.calls == []


async def test_a_fallback_after_failures_lists_every_attempt() -> None:
    openai = ScriptedProvider("openai", [], [Unavailable("down", reason="UPSTREAM_UNAVAILABLE")] * 3)
    mistral = ScriptedProvider("mistral", ["m"])
    router, _, _ = router_over(openai, mistral, types={"openai": "openai", "mistral": "mistral"})
    *_, last = await chunks_of(router, "gpt-4o")
    assert last.metadata.model == "mistral-large-latest"
    assert last.metadata.fallback_reason == "UPSTREAM_UNAVAILABLE"
    assert [a.error_reason for a in last.metadata.attempts] == ["UPSTREAM_UNAVAILABLE"] * 3 + [""]
    # Pieces say who is answering as they come.
    assert last.metadata.requested_model == "gpt-4o"


def _unsupported() -> InvalidArgument:
    return InvalidArgument("`seed` is not supported", reason=REASON_UNSUPPORTED_PARAMETER)


async def test_a_fallback_lacking_a_parameter_is_passed_over_not_blamed_on_the_caller(
    tmp_path: Path,
) -> None:
    override = tmp_path / "catalog.toml"
    override.write_text(
        '[fallbacks]\n"gpt-4o" = ["claude-sonnet-4-5", "mistral-large-latest"]\n',
        encoding="utf-8",
    )
    openai = ScriptedProvider("openai", [], [Unavailable("down", reason="UPSTREAM_UNAVAILABLE")] * 3)
    anthropic = ScriptedProvider("anthropic", ["a"], [_unsupported()])
    mistral = ScriptedProvider("mistral", ["m"])
    router, _, _ = router_over(
        openai, anthropic, mistral,
        types={"openai": "openai", "anthropic": "anthropic", "mistral": "mistral"},
        catalog_file=override,
    )
    *_, last = await chunks_of(router, "gpt-4o")
    assert last.metadata.model == "mistral-large-latest"
    assert [(a.model, a.error_reason) for a in last.metadata.attempts][-2:] == [
        ("claude-sonnet-4-5", REASON_UNSUPPORTED_PARAMETER), ("mistral-large-latest", ""),
    ]
    assert len(anthropic.calls) == 1, "not retried"

    openai.failures = [Unavailable("down", reason="UPSTREAM_UNAVAILABLE")] * 3
    anthropic.failures = [_unsupported()]
    mistral.failures = [Unavailable("down", reason="UPSTREAM_UNAVAILABLE")] * 3
    with pytest.raises(Unavailable):  # the upstreams' fault, not the caller's
        await chunks_of(router, "gpt-4o")


async def test_the_requested_model_lacking_a_parameter_is_the_callers_to_change() -> None:
    anthropic = ScriptedProvider("anthropic", ["a"], [_unsupported()])
    mistral = ScriptedProvider("mistral", ["m"])
    router, _, _ = router_over(
        anthropic, mistral, types={"anthropic": "anthropic", "mistral": "mistral"}
    )
    with pytest.raises(InvalidArgument):
        await chunks_of(router, "claude-sonnet-4-5")
    assert mistral.calls == []


@pytest.mark.parametrize("refusal", [RateLimited("slow down"), BudgetExceeded("no budget")])
async def test_the_callers_own_limits_never_count_against_a_deployment(refusal: Exception) -> None:
    openai = ScriptedProvider("openai", ["a"], [refusal] * 10)
    mistral = ScriptedProvider("mistral", ["m"])
    router, _, clock = router_over(
        openai, mistral, types={"openai": "openai", "mistral": "mistral"},
        breaker_failure_threshold=1,
    )
    with pytest.raises(type(refusal)):
        await chunks_of(router, "gpt-4o")
    assert len(openai.calls) == 1, "not retried"
    assert mistral.calls == [], "no fallback"
    assert clock.sleeps == []
    (deployment,) = router.routing_table.deployments("gpt-4o")
    assert deployment.breaker.state is BreakerState.CLOSED, "no breaker trip"


async def test_without_a_caller_deadline_the_default_deadline_applies() -> None:
    slow = ScriptedProvider("openai", ["one", " two", " three"], delay_s=0.3)
    router = ModelRouter(
        [slow],
        {"openai": "openai"},
        RouterConfig(retry=RetryPolicy(max_attempts=1), default_deadline_s=0.5),
    )
    started = time.monotonic()
    *_, last = await chunks_of(router, "gpt-4o")
    assert isinstance(last.error, DeadlineExceeded) and last.error.reason == "DEADLINE_EXCEEDED"
    assert time.monotonic() - started < 5  # bounded, not the provider's own pace


async def test_an_injected_ledger_accounts_several_calls_as_one_request() -> None:
    router, records, _ = router_over(
        ScriptedProvider("openai", ["a", "b"]), ScriptedProvider("mistral", ["c"]),
        types={"openai": "openai", "mistral": "mistral"},
    )
    ledger = UsageLedger()
    request = CompletionRequest(message="hi", model="gpt-4o")
    [c async for c in router.stream(request, ledger=ledger)]
    second = CompletionRequest(message="hi", model="mistral-large-latest")
    *_, last = [c async for c in router.stream(second, ledger=ledger)]
    assert set(last.metadata.usage_by_model) == {"gpt-4o", "mistral-large-latest"}
    assert last.metadata.usage.completion_tokens == 3
    assert len(records) == 2


async def test_money_and_carbon_are_rounded() -> None:
    router, _, _ = router_over(ScriptedProvider("openai", ["a"] * 7), types={"openai": "openai"})
    *_, last = await chunks_of(router, "gpt-4o")
    pricing = last.metadata.pricing
    for value in (pricing.total_cost, *(c.total for c in pricing.by_model.values())):
        assert value == round(value, 12)
    assert len(repr(pricing.total_cost)) <= 16
    if last.metadata.emissions_kg_co2eq is not None:
        assert len(f"{last.metadata.emissions_kg_co2eq!r}".split("e")[0]) <= 6
