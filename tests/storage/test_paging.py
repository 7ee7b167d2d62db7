"""Contract: listings page without duplicates or gaps, and refuse foreign page tokens."""

from __future__ import annotations

import pytest

from routeur_grpc.domain.repositories import Store
from routeur_grpc.errors import InvalidArgument

ALICE = "alice"


async def test_walking_every_page_yields_each_record_once_in_order(store: Store) -> None:
    created = [await store.conversations.create(ALICE, title=str(i)) for i in range(7)]

    seen, token, pages = [], "", 0
    while True:
        page = await store.conversations.list(ALICE, page_size=3, page_token=token)
        seen += [c.conversation_id for c in page.items]
        pages += 1
        if not (token := page.next_page_token):
            break

    assert pages == 3
    assert seen == [c.conversation_id for c in reversed(created)]


async def test_records_created_while_paging_cause_no_duplicate_and_no_gap(store: Store) -> None:
    created = [await store.conversations.create(ALICE, title=str(i)) for i in range(4)]

    first = await store.conversations.list(ALICE, page_size=2)
    await store.conversations.create(ALICE, title="newer than the walk")
    second = await store.conversations.list(ALICE, page_size=2, page_token=first.next_page_token)

    walked = [c.conversation_id for c in first.items + second.items]
    assert walked == [c.conversation_id for c in reversed(created)]


async def test_a_full_last_page_still_says_there_is_no_next_page(store: Store) -> None:
    for i in range(4):
        await store.conversations.create(ALICE, title=str(i))

    second = await store.conversations.list(
        ALICE,
        page_size=2,
        page_token=(await store.conversations.list(ALICE, page_size=2)).next_page_token,
    )

    assert len(second.items) == 2 and second.next_page_token == ""


async def test_messages_page_by_seq(store: Store) -> None:
    conversation = await store.conversations.create(ALICE)
    for i in range(5):
        await store.conversations.append_message(
            ALICE, conversation.conversation_id, role="user", content=str(i)
        )

    first = await store.conversations.list_messages(
        ALICE, conversation.conversation_id, page_size=2
    )
    rest = await store.conversations.list_messages(
        ALICE, conversation.conversation_id, page_token=first.next_page_token
    )

    assert [m.seq for m in first.items] == [1, 2]
    assert [m.seq for m in rest.items] == [3, 4, 5]


async def test_page_size_zero_means_fifty(store: Store) -> None:
    for i in range(51):
        await store.analyses.create(ALICE, text=str(i), model="m", result={})

    page = await store.analyses.list(ALICE, page_size=0)

    assert len(page.items) == 50 and page.next_page_token


@pytest.mark.parametrize("page_size", [-1, 2.5, "10", None, True])
async def test_page_size_must_be_a_non_negative_integer(store: Store, page_size: object) -> None:
    with pytest.raises(InvalidArgument, match="page_size"):
        await store.conversations.list(ALICE, page_size=page_size)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "token",
    [
        "garbage",
        "!!!",
        "eyJ2IjoxfQ",  # {"v":1}
        "e30",  # {}
        {"$gt": ""},
        None,
        "x" * 10_000,
    ],
    ids=repr,
)
async def test_a_made_up_page_token_is_invalid(store: Store, token: object) -> None:
    await store.conversations.create(ALICE)

    with pytest.raises(InvalidArgument, match="page_token"):
        await store.conversations.list(ALICE, page_token=token)  # type: ignore[arg-type]


async def test_a_page_token_only_works_for_the_listing_that_made_it(store: Store) -> None:
    for i in range(3):
        await store.conversations.create(ALICE, title=f"t{i}")
        await store.conversations.create("bob", title=f"t{i}")
        await store.analyses.create(ALICE, text="t", model="m", result={})
    token = (await store.conversations.list(ALICE, page_size=1)).next_page_token
    assert token

    with pytest.raises(InvalidArgument):
        await store.conversations.list("bob", page_token=token)
    with pytest.raises(InvalidArgument):
        await store.analyses.list(ALICE, page_token=token)
    with pytest.raises(InvalidArgument):
        await store.conversations.search(ALICE, "t", page_token=token)
