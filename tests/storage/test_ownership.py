"""Contract: someone else's record behaves exactly like a missing one, for every
owner-scoped read, update and delete.

Each test makes Bob try Alice's record, then has Alice delete it and try it herself: both
must fail with NotFound and the very same message, so nothing tells Bob the record exists.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from routeur_grpc.domain.records import TranscriptResult
from routeur_grpc.domain.repositories import Store
from routeur_grpc.errors import NotFound

ALICE = "alice"
BOB = "bob"

Call = Callable[[str], Awaitable[Any]]  # takes the owner id


async def assert_looks_missing_to_others(
    calls: list[Call], delete: Callable[[], Awaitable[None]]
) -> None:
    messages_for_bob = []
    for call in calls:
        with pytest.raises(NotFound) as raised:
            await call(BOB)
        messages_for_bob.append(str(raised.value))
    await delete()
    for call, message_for_bob in zip(calls, messages_for_bob, strict=True):
        with pytest.raises(NotFound) as raised:
            await call(ALICE)
        assert str(raised.value) == message_for_bob


async def test_someone_elses_conversation_looks_missing(store: Store) -> None:
    conversation = await store.conversations.create(ALICE, title="private")
    await store.conversations.append_message(
        ALICE, conversation.conversation_id, role="user", content="secret"
    )
    cid = conversation.conversation_id
    repo = store.conversations

    await assert_looks_missing_to_others(
        [
            lambda owner: repo.get(owner, cid),
            lambda owner: repo.list_messages(owner, cid),
            lambda owner: repo.append_message(owner, cid, role="user", content="hi"),
            lambda owner: repo.update_title(owner, cid, "mine now"),
            lambda owner: repo.delete(owner, cid),
        ],
        lambda: repo.delete(ALICE, cid),
    )


async def test_someone_elses_conversation_is_untouched_by_their_failed_attempts(
    store: Store,
) -> None:
    conversation = await store.conversations.create(ALICE, title="private")
    cid = conversation.conversation_id

    for attempt in (
        store.conversations.append_message(BOB, cid, role="user", content="x"),
        store.conversations.update_title(BOB, cid, "mine"),
        store.conversations.delete(BOB, cid),
    ):
        with pytest.raises(NotFound):
            await attempt

    assert await store.conversations.get(ALICE, cid) == conversation
    assert (await store.conversations.search(BOB, "private")).items == ()
    assert (await store.conversations.list(BOB)).items == ()


async def test_someone_elses_analysis_looks_missing(store: Store) -> None:
    analysis = await store.analyses.create(ALICE, text="t", model="m", result={"ok": True})
    aid = analysis.analysis_id

    await assert_looks_missing_to_others(
        [
            lambda owner: store.analyses.get(owner, aid),
            lambda owner: store.analyses.delete(owner, aid),
        ],
        lambda: store.analyses.delete(ALICE, aid),
    )
    assert (await store.analyses.list(BOB)).items == ()


async def test_someone_elses_job_looks_missing(store: Store) -> None:
    # Jobs are never deleted, so Bob's view of Alice's job is compared with Alice's view of
    # a job that never existed, the id aside.
    job = await store.jobs.create(ALICE, job_type="transcription_audio", audio_path="a.mp3")
    gone = await store.jobs.create(ALICE, job_type="transcription_audio", audio_path="b.mp3")
    never = gone.job_id[:-1] + ("0" if gone.job_id[-1] != "0" else "1")

    for call in (store.jobs.get, store.jobs.cancel):
        with pytest.raises(NotFound) as for_bob:
            await call(BOB, job.job_id)
        with pytest.raises(NotFound) as missing:
            await call(ALICE, never)
        assert str(for_bob.value).replace(job.job_id, never) == str(missing.value)
    assert (await store.jobs.list(BOB)).items == ()
    assert (await store.jobs.get(ALICE, job.job_id)).status == "queued"


async def test_someone_elses_api_key_looks_missing(store: Store) -> None:
    alice = await store.users.create(username="alice")
    bob = await store.users.create(username="bob")
    key = await store.api_keys.create(
        user_id=alice.user_id, name="laptop", prefix="rk_abcde", secret_hash="a" * 64
    )

    for call in (
        lambda: store.api_keys.get(bob.user_id, key.key_id),
        lambda: store.api_keys.revoke(bob.user_id, key.key_id),
    ):
        with pytest.raises(NotFound) as raised:
            await call()
        assert str(raised.value) == f"API key {key.key_id} not found."
    assert (await store.api_keys.list_for_user(bob.user_id)).items == ()
    assert not (await store.api_keys.get(alice.user_id, key.key_id)).revoked


async def test_a_worker_without_the_lease_cannot_touch_a_job(store: Store) -> None:
    job = await store.jobs.create(ALICE, job_type="transcription_audio", audio_path="a.mp3")
    claimed = await store.jobs.claim_next("worker-1", 30)
    assert claimed is not None and claimed.job_id == job.job_id

    assert not await store.jobs.renew_lease(job.job_id, "worker-2", 30)
    assert not await store.jobs.report_progress(job.job_id, "worker-2", 50)
    assert not await store.jobs.complete(job.job_id, "worker-2", TranscriptResult("stolen"))
    assert not await store.jobs.fail(job.job_id, "worker-2", "nope")
    assert not await store.jobs.release(job.job_id, "worker-2")

    unchanged = await store.jobs.get(ALICE, job.job_id)
    assert (unchanged.status, unchanged.lease_owner) == ("running", "worker-1")
