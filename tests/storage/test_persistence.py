"""Contract: everything survives closing the store and opening it again."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from routeur_grpc.domain.records import TranscriptResult
from routeur_grpc.domain.repositories import Store
from routeur_grpc.errors import Unavailable

ALICE = "alice"


async def test_everything_is_still_there_after_a_restart(store: Store, open_same_store) -> None:
    user = await store.users.create(username="ada", display_name="Ada", role="admin")
    key = await store.api_keys.create(
        user_id=user.user_id, name="laptop", prefix="rk_abcde", secret_hash="b" * 64
    )
    await store.api_keys.touch_last_used(key.key_id, datetime(2026, 5, 1, tzinfo=UTC))
    conversation = await store.conversations.create(ALICE, title="Avant redémarrage")
    messages = [
        await store.conversations.append_message(
            ALICE, conversation.conversation_id, role=role, content=f"{role} says hi", model=model
        )
        for role, model in (("system", ""), ("user", ""), ("assistant", "smollm2"))
    ]
    analysis = await store.analyses.create(
        ALICE, text="texte", model="m", result={"tags": ["a", "b"], "score": 1.5}
    )
    queued = await store.jobs.create(
        ALICE, job_type="transcription_meeting", audio_path="m.wav", options={"language": "fr"}
    )
    done = await store.jobs.create(ALICE, job_type="transcription_audio", audio_path="a.mp3")
    await store.jobs.claim_next("worker-1", 30)  # claims `queued`, the oldest
    await store.jobs.release(queued.job_id, "worker-1")
    await store.jobs.claim_next("worker-1", 30)  # `queued` again: released jobs keep their age
    await store.jobs.claim_next("worker-2", 30)  # `done`
    await store.jobs.complete(done.job_id, "worker-2", TranscriptResult("ok", "fr", 3.0, "w"))
    provider = await store.providers.create(
        provider_type="mistral", name="Mistral", config={"timeout": 30}, enabled=False
    )
    usage = await store.usage.record(
        request_id="req-1", owner_id=ALICE, model="m", provider="p", prompt_tokens=1,
        completion_tokens=2, cost=0.5, currency="EUR", emissions_g=None, latency_s=0.1,
    )  # fmt: skip
    before = {
        "user": await store.users.get(user.user_id),
        "key": await store.api_keys.get(user.user_id, key.key_id),
        "conversation": await store.conversations.get(ALICE, conversation.conversation_id),
        "queued": await store.jobs.get(ALICE, queued.job_id),
        "done": await store.jobs.get(ALICE, done.job_id),
    }

    await store.close()
    with pytest.raises(Unavailable):
        await store.conversations.get(ALICE, conversation.conversation_id)
    reopened = await open_same_store()

    assert await reopened.users.get(user.user_id) == before["user"]
    assert await reopened.api_keys.find_by_secret_hash("b" * 64) == before["key"]
    assert (
        await reopened.conversations.get(ALICE, conversation.conversation_id)
        == before["conversation"]
    )
    listed = await reopened.conversations.list_messages(ALICE, conversation.conversation_id)
    assert list(listed.items) == messages
    assert await reopened.analyses.get(ALICE, analysis.analysis_id) == analysis
    assert await reopened.jobs.get(ALICE, queued.job_id) == before["queued"]
    assert await reopened.jobs.get(ALICE, done.job_id) == before["done"]
    assert await reopened.providers.get(provider.provider_id) == provider
    day = usage.create_time.date()
    total = await reopened.usage.total(ALICE, first_day=day, last_day=day)
    assert (total.requests, total.cost) == (1, 0.5)
    # And the reopened store carries on where the other left off.
    more = await reopened.conversations.append_message(
        ALICE, conversation.conversation_id, role="user", content="after"
    )
    assert more.seq == 4


async def test_ids_made_after_a_restart_still_sort_after_older_ones(
    store: Store, open_same_store
) -> None:
    old = await store.analyses.create(ALICE, text="old", model="m", result={})
    await store.close()
    reopened = await open_same_store()

    new = await reopened.analyses.create(ALICE, text="new", model="m", result={})

    assert [a.analysis_id for a in (await reopened.analyses.list(ALICE)).items] == [
        new.analysis_id,
        old.analysis_id,
    ]
