"""Contract: malformed ids, operator injection and oversized documents give a clear
InvalidArgument or NotFound, never a driver error, on every store."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from routeur_grpc.domain.records import (
    MAX_ANALYSIS_TEXT_BYTES,
    MAX_JSON_BYTES,
    MAX_MESSAGE_CONTENT_BYTES,
)
from routeur_grpc.domain.repositories import Store
from routeur_grpc.errors import InvalidArgument, NotFound

ALICE = "alice"

MALFORMED_IDS = [
    {"$ne": None},
    '{"$ne": null}',
    {"$gt": ""},
    {"$regex": ".*"},
    ["01m815w5w387cg9zxjtp4rfpss"],
    None,
    42,
    "",
    "01M815W5W387CG9ZXJTP4RFPSS",  # upper case
    "01m815w5w387cg9zxjtp4rfps",  # 25 characters
    "01m815w5w387cg9zxjtp4rfpss0",  # 27 characters
    "01m815w5w387cg9zxjtp4rf%_*",
    "01m815w5w387cg9zxjtp4rf\x00ss",
    "../../../../etc/passwd",
    "' OR '1'='1",
]


@pytest.fixture
async def alices_records(store: Store) -> None:
    """Records that a successful injection would reveal or touch."""
    conversation = await store.conversations.create(ALICE, title="secret")
    await store.conversations.append_message(
        ALICE, conversation.conversation_id, role="user", content="secret"
    )
    await store.analyses.create(ALICE, text="secret", model="m", result={})
    await store.jobs.create(ALICE, job_type="transcription_audio", audio_path="a.mp3")
    user = await store.users.create(username="ada")
    await store.api_keys.create(user_id=user.user_id, name="k", prefix="p", secret_hash="a" * 64)
    await store.providers.create(provider_type="openai", name="main")


@pytest.mark.parametrize("bad_id", MALFORMED_IDS, ids=repr)
async def test_a_malformed_id_matches_nothing(
    store: Store, alices_records: None, bad_id: Any
) -> None:
    calls = [
        lambda: store.conversations.get(ALICE, bad_id),
        lambda: store.conversations.list_messages(ALICE, bad_id),
        lambda: store.conversations.append_message(ALICE, bad_id, role="user", content="x"),
        lambda: store.conversations.update_title(ALICE, bad_id, "x"),
        lambda: store.conversations.delete(ALICE, bad_id),
        lambda: store.analyses.get(ALICE, bad_id),
        lambda: store.analyses.delete(ALICE, bad_id),
        lambda: store.jobs.get(ALICE, bad_id),
        lambda: store.jobs.cancel(ALICE, bad_id),
        lambda: store.users.get(bad_id),
        lambda: store.users.update(bad_id, disabled=True),
        lambda: store.users.delete(bad_id),
        lambda: store.api_keys.list_for_user(bad_id),
        lambda: store.api_keys.get(bad_id, bad_id),
        lambda: store.api_keys.revoke(bad_id, bad_id),
        lambda: store.providers.get(bad_id),
        lambda: store.providers.update(bad_id, name="x"),
        lambda: store.providers.set_enabled(bad_id, False),
        lambda: store.providers.delete(bad_id),
    ]
    for call in calls:
        with pytest.raises(NotFound):
            await call()
    # And nothing was changed by the attempts.
    assert len((await store.conversations.list(ALICE)).items) == 1
    assert len((await store.users.list()).items) == 1
    assert len(await store.providers.list()) == 1


@pytest.mark.parametrize("bad_owner", [{"$ne": None}, None, "", "x" * 129, "a\x00b", 7], ids=repr)
async def test_a_malformed_owner_id_is_refused(
    store: Store, alices_records: None, bad_owner: Any
) -> None:
    calls = [
        lambda: store.conversations.list(bad_owner),
        lambda: store.conversations.search(bad_owner, "secret"),
        lambda: store.conversations.create(bad_owner),
        lambda: store.analyses.list(bad_owner),
        lambda: store.jobs.list(bad_owner),
        lambda: store.usage.total(bad_owner, first_day=date.today(), last_day=date.today()),
    ]
    for call in calls:
        with pytest.raises(InvalidArgument):
            await call()


@pytest.mark.parametrize("bad_name", [{"$ne": None}, {"$regex": "."}, None, "", "a\nb"], ids=repr)
async def test_lookups_by_name_refuse_anything_but_a_plain_name(
    store: Store, alices_records: None, bad_name: object
) -> None:
    with pytest.raises(InvalidArgument):
        await store.users.get_by_username(bad_name)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument):
        await store.providers.get_by_name(bad_name)  # type: ignore[arg-type]


async def test_a_name_that_reads_like_an_operator_is_just_a_name(store: Store) -> None:
    user = await store.users.create(username='{"$ne": null}')

    assert await store.users.get_by_username('{"$ne": null}') == user
    with pytest.raises(NotFound):
        await store.users.get_by_username('{"$gt": ""}')


async def test_message_content_is_capped(store: Store) -> None:
    conversation = await store.conversations.create(ALICE)
    largest = "é" * (MAX_MESSAGE_CONTENT_BYTES // 2)  # two bytes each: exactly the limit

    kept = await store.conversations.append_message(
        ALICE, conversation.conversation_id, role="user", content=largest
    )
    assert kept.content == largest

    with pytest.raises(InvalidArgument, match=r"content is too large.*1 MiB"):
        await store.conversations.append_message(
            ALICE, conversation.conversation_id, role="user", content=largest + "x"
        )
    after = await store.conversations.get(ALICE, conversation.conversation_id)
    assert after.message_count == 1


async def test_analysis_text_and_result_are_capped(store: Store) -> None:
    with pytest.raises(InvalidArgument, match=r"text is too large.*1 MiB"):
        await store.analyses.create(
            ALICE, text="x" * (MAX_ANALYSIS_TEXT_BYTES + 1), model="m", result={}
        )
    with pytest.raises(InvalidArgument, match=r"result is too large.*1 MiB"):
        await store.analyses.create(ALICE, text="t", model="m", result={"x": "y" * MAX_JSON_BYTES})
    assert (await store.analyses.list(ALICE)).items == ()


@pytest.mark.parametrize(
    "result",
    [{1, 2}, {"x": float("nan")}, {"x": object()}, ["not", "an", "object"], '{"a": 1}'],
    ids=repr,
)
async def test_an_analysis_result_must_be_a_json_object(store: Store, result: object) -> None:
    with pytest.raises(InvalidArgument, match="result"):
        await store.analyses.create(ALICE, text="t", model="m", result=result)  # type: ignore[arg-type]


async def test_text_that_is_not_valid_unicode_is_refused(store: Store) -> None:
    conversation = await store.conversations.create(ALICE)

    with pytest.raises(InvalidArgument, match="content"):
        await store.conversations.append_message(
            ALICE, conversation.conversation_id, role="user", content="half a pair: \ud800"
        )
    with pytest.raises(InvalidArgument, match="title"):
        await store.conversations.create(ALICE, title="\udfff")


@pytest.mark.parametrize("title", [None, 3, {"$set": {"owner_id": "eve"}}, "t" * 501], ids=repr)
async def test_a_title_is_a_string_of_at_most_500_characters(store: Store, title: object) -> None:
    with pytest.raises(InvalidArgument, match="title"):
        await store.conversations.create(ALICE, title=title)  # type: ignore[arg-type]
