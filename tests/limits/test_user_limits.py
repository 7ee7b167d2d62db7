"""A user's own limits: set by an admin through QuotaService, applied instead of the
defaults (0: unlimited), and the quota policy in the domain."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from routeur.v1 import quota_service_pb2 as pb
from routeur.v1 import quota_service_pb2_grpc as pb_grpc
from support import open_channel, server_settings, start_server

from routeur_grpc.domain.caller import Caller
from routeur_grpc.domain.completion import (
    CompletionChunk,
    CompletionMetadata,
    CompletionRequest,
    TokenUsage,
)
from routeur_grpc.domain.models import ModelInfo, ModelPrice
from routeur_grpc.errors import BudgetExceeded, RateLimited
from routeur_grpc.limits.memory import InProcessCounters
from routeur_grpc.limits.policy import LimitDefaults
from routeur_grpc.providers.token_count import TokenCounter
from routeur_grpc.services.quota import CompletionQuota, QuotaConfig
from routeur_grpc.services.user_limits import UserLimitsService
from routeur_grpc.storage.sqlite import open_sqlite_store


class _Models:
    async def get_model(self, name: str) -> ModelInfo:
        # 1 EUR per million tokens either way: 1e-6 EUR a token.
        return ModelInfo(name=name, provider="openai", price=ModelPrice("EUR", 1.0, 1.0))


async def _answer(tokens: int) -> AsyncIterator[CompletionChunk]:
    yield CompletionChunk(content="Hi")
    yield CompletionChunk(
        done=True, metadata=CompletionMetadata(model="m", usage=TokenUsage(10, tokens))
    )


async def _serve(quota: CompletionQuota, caller: Caller, max_tokens: int = 10) -> None:
    hold = await quota.open(
        CompletionRequest(message="Bonjour", model="m", max_tokens=max_tokens), caller
    )
    async for _ in hold.guard(_answer(max_tokens)):
        pass


async def test_a_users_own_limits_replace_the_defaults(tmp_path: Path):
    store = await open_sqlite_store(tmp_path)
    try:
        alice = await store.users.create(username="alice")
        bob = await store.users.create(username="bob")
        limits = UserLimitsService(store.user_limits, store.users)
        quota = CompletionQuota(
            InProcessCounters(),
            QuotaConfig(LimitDefaults(requests_per_minute=1)),
            _Models(),
            TokenCounter(),
            overrides=limits,
        )
        await limits.set(alice.user_id, requests_per_minute=3, tokens_per_minute=None, budget=None)
        await limits.set(bob.user_id, requests_per_minute=0, tokens_per_minute=None, budget=None)
        as_alice = Caller(owner_id=alice.user_id, request_id="r")
        as_bob = Caller(owner_id=bob.user_id, request_id="r")
        as_carol = Caller(owner_id="carol", request_id="r")
        for _ in range(3):
            await _serve(quota, as_alice)
        with pytest.raises(RateLimited):
            await _serve(quota, as_alice)
        for _ in range(10):  # 0: unlimited
            await _serve(quota, as_bob)
        await _serve(quota, as_carol)  # the default: 1
        with pytest.raises(RateLimited):
            await _serve(quota, as_carol)
    finally:
        await store.close()


async def test_a_budget_counts_real_costs_and_admins_are_limited_unless_exempt():
    counters = InProcessCounters()
    defaults = LimitDefaults(budget=0.0001)  # 100 tokens at 1e-6 EUR
    quota = CompletionQuota(counters, QuotaConfig(defaults), _Models(), TokenCounter())
    admin = Caller(owner_id="root", request_id="r", roles=frozenset({"admin"}))
    await _serve(quota, admin, max_tokens=40)  # ~50 tokens reserved, then 50 settled
    with pytest.raises(BudgetExceeded) as caught:
        await _serve(quota, admin, max_tokens=60)
    assert "budget of 0.0001 EUR" in caught.value.message
    exempt = CompletionQuota(
        counters, QuotaConfig(defaults, admins_exempt=True), _Models(), TokenCounter()
    )
    await _serve(exempt, admin, max_tokens=60)


async def test_admins_set_and_read_a_users_limits(tmp_path: Path):
    running = await start_server(
        server_settings(tmp_path, local_model_enabled=False, rate_limit_rpm=60, budget_amount=5)
    )
    try:
        user = await running.server.app.store.users.create(username="dora")
        async with open_channel(running.address) as channel:
            stub = pb_grpc.QuotaServiceStub(channel)
            before = (
                await stub.GetUserLimits(pb.GetUserLimitsRequest(user_id=user.user_id))
            ).limits
            assert not before.HasField("requests_per_minute") and before.currency == "EUR"
            assert before.budget_period == "month"
            updated = (
                await stub.UpdateUserLimits(
                    pb.UpdateUserLimitsRequest(
                        limits=pb.UserLimits(user_id=user.user_id, requests_per_minute=5, budget=0)
                    )
                )
            ).limits
            assert updated.requests_per_minute == 5 and updated.budget == 0
            assert not updated.HasField("tokens_per_minute") and updated.HasField("updated_at")
            again = (await stub.GetUserLimits(pb.GetUserLimitsRequest(user_id=user.user_id))).limits
            assert again == updated
            for call, code in (
                (
                    stub.GetUserLimits(pb.GetUserLimitsRequest(user_id="0" * 26)),
                    grpc.StatusCode.NOT_FOUND,
                ),
                (stub.GetUserLimits(pb.GetUserLimitsRequest()), grpc.StatusCode.INVALID_ARGUMENT),
                (
                    stub.UpdateUserLimits(
                        pb.UpdateUserLimitsRequest(
                            limits=pb.UserLimits(user_id=user.user_id, requests_per_minute=-2)
                        )
                    ),
                    grpc.StatusCode.INVALID_ARGUMENT,
                ),
            ):
                with pytest.raises(grpc.aio.AioRpcError) as caught:
                    await call
                assert caught.value.code() == code
    finally:
        await running.server.stop(0.5)


async def test_a_budget_survives_a_restart_through_the_usage_records(tmp_path: Path):
    store = await open_sqlite_store(tmp_path)
    try:
        await store.usage.record(
            request_id="before-restart",
            owner_id="erin",
            model="m",
            provider="openai",
            prompt_tokens=10,
            completion_tokens=80,
            cost=0.00009,
            currency="EUR",
            emissions_g=None,
            latency_s=0.1,
        )
        fresh_counters = InProcessCounters()  # a restarted instance
        quota = CompletionQuota(
            fresh_counters,
            QuotaConfig(LimitDefaults(budget=0.0001)),
            _Models(),
            TokenCounter(),
            spending=store.usage,
        )
        with pytest.raises(BudgetExceeded):
            await _serve(quota, Caller(owner_id="erin", request_id="r"), max_tokens=20)
        await _serve(quota, Caller(owner_id="frank", request_id="r"), max_tokens=20)
    finally:
        await store.close()


async def test_each_api_key_is_held_to_the_defaults_and_the_user_to_their_own(tmp_path: Path):
    store = await open_sqlite_store(tmp_path)
    try:
        hana = await store.users.create(username="hana")
        limits = UserLimitsService(store.user_limits, store.users)
        await limits.set(hana.user_id, requests_per_minute=5, tokens_per_minute=None, budget=None)
        quota = CompletionQuota(
            InProcessCounters(),
            QuotaConfig(LimitDefaults(requests_per_minute=2)),
            _Models(),
            TokenCounter(),
            overrides=limits,
        )
        first_key = Caller(owner_id=hana.user_id, request_id="r", api_key_id="key-1")
        second_key = Caller(owner_id=hana.user_id, request_id="r", api_key_id="key-2")
        third_key = Caller(owner_id=hana.user_id, request_id="r", api_key_id="key-3")
        await _serve(quota, first_key)
        await _serve(quota, first_key)
        with pytest.raises(RateLimited) as caught:
            await _serve(quota, first_key)
        assert caught.value.metadata["quota_subject"] == "key:key-1"
        assert "this API key's limit is 2" in caught.value.message
        await _serve(quota, second_key)
        await _serve(quota, second_key)
        await _serve(quota, third_key)  # the user's 5th
        with pytest.raises(RateLimited) as caught:
            await _serve(quota, third_key)
        assert caught.value.metadata["quota_subject"] == f"user:{hana.user_id}"
    finally:
        await store.close()
