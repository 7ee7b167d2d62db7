"""Providers added by administrators join the router at run time: beside the configured
ones, replaced as a set when the store changes, gone when removed, without a restart.

Same scripted providers and fake clock as test_router.py.
"""

from __future__ import annotations

import pytest

from routeur_grpc.domain.models import ModelInfo
from routeur_grpc.errors import FailedPrecondition, InvalidArgument

from .test_router import ScriptedProvider, chunks_of, router_over


async def test_a_runtime_provider_answers_beside_the_configured_ones() -> None:
    configured = ScriptedProvider("mistral", ["m"])
    router, _, _ = router_over(configured, types={"mistral": "mistral"})
    with pytest.raises(FailedPrecondition):
        await chunks_of(router, "gpt-4o")

    added = ScriptedProvider("OpenAI", ["a"])
    router.set_runtime_providers([added], {"OpenAI": "openai"}, {})

    *_, last = await chunks_of(router, "gpt-4o")
    assert last.error is None and len(added.calls) == 1
    *_, last = await chunks_of(router, "mistral-large-latest")
    assert last.error is None and len(configured.calls) == 1
    assert {p.name for p in router.providers} == {"mistral", "OpenAI"}
    assert router.provider_type("OpenAI") == "openai"


async def test_a_changed_provider_is_replaced_and_routes_exactly_its_declared_models() -> None:
    router, _, _ = router_over(ScriptedProvider("mistral", ["m"]), types={"mistral": "mistral"})
    before = ScriptedProvider("OpenAI", ["a"])
    router.set_runtime_providers([before], {"OpenAI": "openai"}, {})

    after = ScriptedProvider("OpenAI", ["b"])
    declared = {"OpenAI": [ModelInfo(name="my-finetune", provider="openai")]}
    router.set_runtime_providers([after], {"OpenAI": "openai"}, declared)

    *pieces, last = await chunks_of(router, "my-finetune")
    assert [p.content for p in pieces] == ["b"] and last.error is None
    assert before.calls == [], "the old client no longer takes requests"
    with pytest.raises(FailedPrecondition):  # not declared: not routed to it
        await chunks_of(router, "gpt-4o")


async def test_a_removed_provider_is_no_longer_routed_the_configured_ones_stay() -> None:
    configured = ScriptedProvider("mistral", ["m"])
    router, _, _ = router_over(configured, types={"mistral": "mistral"})
    declared = {"OpenAI": [ModelInfo(name="my-finetune", provider="openai")]}
    router.set_runtime_providers(
        [ScriptedProvider("OpenAI", ["a"])], {"OpenAI": "openai"}, declared
    )
    assert (await router.get_model("my-finetune")).available

    router.set_runtime_providers([], {}, {})

    assert [p.name for p in router.providers] == ["mistral"]
    assert router.provider_type("OpenAI") == ""
    with pytest.raises(InvalidArgument):  # the model it alone declared is gone too
        await chunks_of(router, "my-finetune")
    *_, last = await chunks_of(router, "mistral-large-latest")
    assert last.error is None and len(configured.calls) == 1


async def test_providers_added_through_add_providers_are_not_runtime_ones() -> None:
    router, _, _ = router_over(ScriptedProvider("mistral", ["m"]), types={"mistral": "mistral"})
    router.add_providers([ScriptedProvider("openai", ["a"])], {"openai": "openai"})
    router.set_runtime_providers([ScriptedProvider("Claude", ["c"])], {"Claude": "anthropic"}, {})
    router.set_runtime_providers([], {}, {})
    assert {p.name for p in router.providers} == {"mistral", "openai"}
    assert router.circuit_states().keys() == {"mistral", "openai"}
