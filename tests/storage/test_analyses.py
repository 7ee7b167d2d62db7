"""Contract: text analyses, on every store."""

from __future__ import annotations

import pytest

from routeur_grpc.domain.repositories import Store
from routeur_grpc.errors import NotFound

ALICE = "alice"


async def test_an_analysis_keeps_its_text_model_and_json_result(store: Store) -> None:
    result = {"sentiment": "positive", "score": 0.93, "topics": ["cuisine", "voyage"], "n": None}

    created = await store.analyses.create(ALICE, text="Un texte.", model="gpt-4o", result=result)

    assert created.result == result
    assert await store.analyses.get(ALICE, created.analysis_id) == created


async def test_result_keys_that_look_like_operators_are_just_data(store: Store) -> None:
    result = {"$where": "1 == 1", "a.b": {"$gt": ""}, "nested": [{"$ne": None}]}

    created = await store.analyses.create(ALICE, text="t", model="m", result=result)

    assert (await store.analyses.get(ALICE, created.analysis_id)).result == result


async def test_analyses_are_listed_newest_first_in_pages(store: Store) -> None:
    created = [
        await store.analyses.create(ALICE, text=f"t{i}", model="m", result={}) for i in range(4)
    ]
    await store.analyses.create("bob", text="bob's", model="m", result={})

    first = await store.analyses.list(ALICE, page_size=3)
    rest = await store.analyses.list(ALICE, page_size=3, page_token=first.next_page_token)

    listed = [a.analysis_id for a in first.items + rest.items]
    assert listed == [a.analysis_id for a in reversed(created)]


async def test_a_deleted_analysis_is_gone(store: Store) -> None:
    created = await store.analyses.create(ALICE, text="t", model="m", result={})

    await store.analyses.delete(ALICE, created.analysis_id)

    with pytest.raises(NotFound):
        await store.analyses.get(ALICE, created.analysis_id)
    with pytest.raises(NotFound):
        await store.analyses.delete(ALICE, created.analysis_id)
