"""Contract: conversations and their messages, on every store."""

from __future__ import annotations

import asyncio

import pytest

from routeur_grpc.domain.repositories import Store
from routeur_grpc.errors import InvalidArgument, NotFound

ALICE = "alice"
BOB = "bob"


async def test_a_new_conversation_can_be_read_back(store: Store) -> None:
    created = await store.conversations.create(ALICE, title="Recettes")

    assert created.owner_id == ALICE
    assert created.title == "Recettes"
    assert created.message_count == 0
    assert created.create_time.tzinfo is not None
    assert await store.conversations.get(ALICE, created.conversation_id) == created


async def test_conversations_are_listed_newest_first_and_only_the_owners(store: Store) -> None:
    first = await store.conversations.create(ALICE, title="one")
    second = await store.conversations.create(ALICE, title="two")
    await store.conversations.create(BOB, title="not alice's")

    page = await store.conversations.list(ALICE)

    assert [c.conversation_id for c in page.items] == [
        second.conversation_id,
        first.conversation_id,
    ]
    assert page.next_page_token == ""


async def test_appending_a_message_numbers_it_and_moves_the_conversation(store: Store) -> None:
    conversation = await store.conversations.create(ALICE)

    question = await store.conversations.append_message(
        ALICE, conversation.conversation_id, role="user", content="Bonjour ?"
    )
    answer = await store.conversations.append_message(
        ALICE, conversation.conversation_id, role="assistant", content="Bonjour !", model="gpt-4o"
    )

    assert (question.seq, answer.seq) == (1, 2)
    assert answer.model == "gpt-4o" and question.model == ""
    after = await store.conversations.get(ALICE, conversation.conversation_id)
    assert after.message_count == 2
    assert after.update_time >= answer.create_time >= conversation.update_time


async def test_messages_are_listed_oldest_first(store: Store) -> None:
    conversation = await store.conversations.create(ALICE)
    sent = [
        await store.conversations.append_message(
            ALICE, conversation.conversation_id, role="user", content=f"message {i}"
        )
        for i in range(3)
    ]

    page = await store.conversations.list_messages(ALICE, conversation.conversation_id)

    assert list(page.items) == sent


async def test_fifty_concurrent_appends_keep_every_message_with_consecutive_seqs(
    store: Store,
) -> None:
    conversation = await store.conversations.create(ALICE)

    appended = await asyncio.gather(
        *(
            store.conversations.append_message(
                ALICE, conversation.conversation_id, role="user", content=f"message {i}"
            )
            for i in range(50)
        )
    )

    assert sorted(m.seq for m in appended) == list(range(1, 51))
    stored = await store.conversations.list_messages(
        ALICE, conversation.conversation_id, page_size=100
    )
    assert sorted(m.content for m in stored.items) == sorted(f"message {i}" for i in range(50))
    assert [m.seq for m in stored.items] == list(range(1, 51))
    assert (await store.conversations.get(ALICE, conversation.conversation_id)).message_count == 50


async def test_concurrent_appends_through_two_store_instances_are_all_kept(
    store: Store, open_same_store
) -> None:
    other_instance = await open_same_store()
    conversation = await store.conversations.create(ALICE)

    appended = await asyncio.gather(
        *(
            instance.conversations.append_message(
                ALICE, conversation.conversation_id, role="user", content=str(i)
            )
            for i, instance in enumerate([store, other_instance] * 10)
        )
    )

    assert sorted(m.seq for m in appended) == list(range(1, 21))


async def test_the_title_can_be_changed(store: Store) -> None:
    conversation = await store.conversations.create(ALICE, title="old")

    renamed = await store.conversations.update_title(ALICE, conversation.conversation_id, "new")

    assert renamed.title == "new"
    assert (await store.conversations.get(ALICE, conversation.conversation_id)).title == "new"


async def test_deleting_a_conversation_deletes_its_messages(store: Store) -> None:
    conversation = await store.conversations.create(ALICE, title="to delete")
    await store.conversations.append_message(
        ALICE, conversation.conversation_id, role="user", content="findme-unique"
    )

    await store.conversations.delete(ALICE, conversation.conversation_id)

    with pytest.raises(NotFound):
        await store.conversations.get(ALICE, conversation.conversation_id)
    with pytest.raises(NotFound):
        await store.conversations.list_messages(ALICE, conversation.conversation_id)
    assert (await store.conversations.search(ALICE, "findme-unique")).items == ()
    with pytest.raises(NotFound):
        await store.conversations.delete(ALICE, conversation.conversation_id)


async def test_appending_to_a_missing_conversation_is_not_found(store: Store) -> None:
    conversation = await store.conversations.create(ALICE)
    await store.conversations.delete(ALICE, conversation.conversation_id)

    with pytest.raises(NotFound):
        await store.conversations.append_message(
            ALICE, conversation.conversation_id, role="user", content="hello?"
        )


async def test_a_message_role_must_be_system_user_or_assistant(store: Store) -> None:
    conversation = await store.conversations.create(ALICE)

    with pytest.raises(InvalidArgument, match="role"):
        await store.conversations.append_message(
            ALICE, conversation.conversation_id, role="tool", content="x"
        )


# --- Search ----------------------------------------------------------------------------------


async def test_search_finds_conversations_by_title_or_message_ignoring_case(store: Store) -> None:
    by_title = await store.conversations.create(ALICE, title="Voyage à Lyon")
    by_message = await store.conversations.create(ALICE, title="Divers")
    await store.conversations.append_message(
        ALICE, by_message.conversation_id, role="user", content="Un week-end à LYON ?"
    )
    await store.conversations.create(ALICE, title="Paris")
    await store.conversations.create(BOB, title="Lyon aussi, mais à Bob")

    found = await store.conversations.search(ALICE, "lyon")

    assert [c.conversation_id for c in found.items] == [
        by_message.conversation_id,
        by_title.conversation_id,
    ]


async def test_search_folds_the_case_of_accented_letters(store: Store) -> None:
    conversation = await store.conversations.create(ALICE, title="ÉTÉ INDIEN")

    found = await store.conversations.search(ALICE, "été")

    assert [c.conversation_id for c in found.items] == [conversation.conversation_id]


@pytest.mark.parametrize(
    ("needle", "expected_title"),
    [
        ("100%", "100% sûr"),
        ("%", "100% sûr"),
        ("_", "snake_case"),
        ("a.b", "a.b"),
        (".", "a.b"),
        ("(x)", "(x) [y] {z}"),
        ("[y]", "(x) [y] {z}"),
        ("{z}", "(x) [y] {z}"),
        ("\\", "back\\slash"),
        ("*", "star*"),
        ("^caret$", "^caret$"),
        ("a|b", "a|b"),
        ("+?", "plus+?"),
    ],
)
async def test_search_text_is_literal_even_with_wildcards_and_regex_characters(
    store: Store, needle: str, expected_title: str
) -> None:
    titles = [
        "100% sûr", "snake_case", "a.b", "axb", "(x) [y] {z}", "back\\slash", "star*",
        "^caret$", "a|b", "plus+?", "plain",
    ]  # fmt: skip
    for title in titles:
        await store.conversations.create(ALICE, title=title)

    found = await store.conversations.search(ALICE, needle)

    assert [c.title for c in found.items] == [expected_title]


@pytest.mark.parametrize("needle", [".*", "%%", "_%", "(?i)", "\\w+", '{"$ne": null}'])
async def test_search_patterns_match_nothing_unless_present_literally(
    store: Store, needle: str
) -> None:
    await store.conversations.create(ALICE, title="anything at all")

    assert (await store.conversations.search(ALICE, needle)).items == ()


async def test_search_pages_like_a_listing(store: Store) -> None:
    created = [await store.conversations.create(ALICE, title=f"match {i}") for i in range(5)]
    await store.conversations.create(ALICE, title="other")

    first = await store.conversations.search(ALICE, "match", page_size=3)
    second = await store.conversations.search(
        ALICE, "match", page_size=3, page_token=first.next_page_token
    )

    assert len(first.items) == 3 and second.next_page_token == ""
    found = [c.conversation_id for c in first.items + second.items]
    assert found == [c.conversation_id for c in reversed(created)]
    with pytest.raises(InvalidArgument):
        await store.conversations.search(ALICE, "other text", page_token=first.next_page_token)


@pytest.mark.parametrize("text", ["", "   ", None, {"$regex": ".*"}, "x" * 501])
async def test_search_text_must_be_a_reasonable_string(store: Store, text: object) -> None:
    with pytest.raises(InvalidArgument):
        await store.conversations.search(ALICE, text)  # type: ignore[arg-type]


async def test_recent_messages_are_the_last_ones_oldest_first(store: Store) -> None:
    conversation = await store.conversations.create(ALICE)
    for number in range(1, 6):
        await store.conversations.append_message(
            ALICE, conversation.conversation_id, role="user", content=f"m{number}"
        )

    recent = await store.conversations.recent_messages(
        ALICE, conversation.conversation_id, limit=3
    )
    everything = await store.conversations.recent_messages(
        ALICE, conversation.conversation_id, limit=1000
    )

    assert [m.content for m in recent] == ["m3", "m4", "m5"]
    assert [m.seq for m in everything] == [1, 2, 3, 4, 5]


async def test_recent_messages_of_someone_elses_conversation_look_missing(store: Store) -> None:
    conversation = await store.conversations.create(ALICE)

    with pytest.raises(NotFound):
        await store.conversations.recent_messages(BOB, conversation.conversation_id, limit=5)


@pytest.mark.parametrize("limit", [0, -1, 1001])
async def test_recent_messages_refuse_a_limit_out_of_range(store: Store, limit: int) -> None:
    conversation = await store.conversations.create(ALICE)

    with pytest.raises(InvalidArgument, match="limit"):
        await store.conversations.recent_messages(
            ALICE, conversation.conversation_id, limit=limit
        )
