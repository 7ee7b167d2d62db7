"""Per-user limits: the same contract on both stores."""

from __future__ import annotations

import pytest

from routeur_grpc.domain.repositories import Store
from routeur_grpc.errors import InvalidArgument, NotFound


async def test_limits_are_set_read_replaced_and_removed(store: Store):
    user = await store.users.create(username="limited")
    assert await store.user_limits.get(user.user_id) is None
    saved = await store.user_limits.set(
        user.user_id, requests_per_minute=10, tokens_per_minute=None, budget=2.5
    )
    assert (saved.requests_per_minute, saved.tokens_per_minute, saved.budget) == (10, None, 2.5)
    assert await store.user_limits.get(user.user_id) == saved
    replaced = await store.user_limits.set(
        user.user_id, requests_per_minute=None, tokens_per_minute=0, budget=None
    )
    assert await store.user_limits.get(user.user_id) == replaced
    assert (replaced.requests_per_minute, replaced.tokens_per_minute, replaced.budget) == (
        None,
        0,
        None,
    )
    await store.user_limits.delete(user.user_id)
    await store.user_limits.delete(user.user_id)
    assert await store.user_limits.get(user.user_id) is None


async def test_limits_of_unknown_users(store: Store):
    missing = "0" * 26
    assert await store.user_limits.get(missing) is None
    assert await store.user_limits.get({"$ne": None}) is None  # type: ignore[arg-type]
    with pytest.raises(NotFound):
        await store.user_limits.set(missing, requests_per_minute=1, tokens_per_minute=1, budget=1)


@pytest.mark.parametrize(
    "values",
    [
        {"requests_per_minute": -1, "tokens_per_minute": None, "budget": None},
        {"requests_per_minute": 1.5, "tokens_per_minute": None, "budget": None},
        {"requests_per_minute": None, "tokens_per_minute": True, "budget": None},
        {"requests_per_minute": None, "tokens_per_minute": None, "budget": float("nan")},
        {"requests_per_minute": None, "tokens_per_minute": None, "budget": -3.0},
    ],
)
async def test_bad_limits_are_refused(store: Store, values: dict[str, object]):
    user = await store.users.create(username="bad-limits")
    with pytest.raises(InvalidArgument):
        await store.user_limits.set(user.user_id, **values)  # type: ignore[arg-type]
