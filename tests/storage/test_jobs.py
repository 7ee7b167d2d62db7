"""Contract: transcription jobs and their leases, on every store."""

from __future__ import annotations

import asyncio

import pytest

from routeur_grpc.domain.records import MAX_ERROR_CHARS, TranscriptionJob, TranscriptResult
from routeur_grpc.domain.repositories import Store
from routeur_grpc.errors import FailedPrecondition, InvalidArgument, NotFound

ALICE = "alice"
SHORT_LEASE_S = 0.3


async def new_job(store: Store, owner: str = ALICE, name: str = "a.mp3") -> TranscriptionJob:
    return await store.jobs.create(
        owner, job_type="transcription_audio", audio_path=f"/data/audio/{name}"
    )


async def test_a_new_job_is_queued_with_its_options(store: Store) -> None:
    job = await store.jobs.create(
        ALICE,
        job_type="transcription_meeting",
        audio_path="/data/audio/meeting.m4a",
        options={"language": "fr", "prompt": "Réunion d'équipe"},
    )

    assert (job.status, job.progress_percent, job.attempts) == ("queued", 0, 0)
    assert (job.lease_owner, job.lease_expires_at, job.transcript_duration) == (None, None, None)
    assert job.options == {"language": "fr", "prompt": "Réunion d'équipe"}
    assert await store.jobs.get(ALICE, job.job_id) == job


async def test_a_job_type_must_be_known(store: Store) -> None:
    with pytest.raises(InvalidArgument, match="job_type"):
        await store.jobs.create(ALICE, job_type="translation", audio_path="a.mp3")


async def test_jobs_are_listed_newest_first_in_pages(store: Store) -> None:
    jobs = [await new_job(store, name=f"{i}.mp3") for i in range(3)]

    first = await store.jobs.list(ALICE, page_size=2)
    rest = await store.jobs.list(ALICE, page_size=2, page_token=first.next_page_token)

    assert [j.job_id for j in first.items + rest.items] == [j.job_id for j in reversed(jobs)]


async def test_a_claim_takes_the_oldest_queued_job_and_leases_it(store: Store) -> None:
    oldest = await new_job(store, name="1.mp3")
    await new_job(store, name="2.mp3")

    claimed = await store.jobs.claim_next("worker-1", 30)

    assert claimed is not None and claimed.job_id == oldest.job_id
    assert (claimed.status, claimed.lease_owner, claimed.attempts) == ("running", "worker-1", 1)
    assert claimed.lease_expires_at is not None and claimed.lease_expires_at > claimed.update_time
    assert await store.jobs.get(ALICE, oldest.job_id) == claimed


async def test_there_is_nothing_to_claim_when_no_job_is_queued(store: Store) -> None:
    assert await store.jobs.claim_next("worker-1", 30) is None


async def test_a_leased_job_is_not_claimed_again_before_its_lease_expires(store: Store) -> None:
    await new_job(store)
    assert await store.jobs.claim_next("worker-1", 30) is not None

    assert await store.jobs.claim_next("worker-2", 30) is None


async def test_a_worker_reports_progress_then_completes(store: Store) -> None:
    job = await new_job(store)
    await store.jobs.claim_next("worker-1", 30)

    assert await store.jobs.report_progress(job.job_id, "worker-1", 40)
    assert (await store.jobs.get(ALICE, job.job_id)).progress_percent == 40
    assert await store.jobs.renew_lease(job.job_id, "worker-1", 60)
    result = TranscriptResult("Bonjour à tous.", language="fr", duration_s=12.5, model="whisper-1")
    assert await store.jobs.complete(job.job_id, "worker-1", result)

    done = await store.jobs.get(ALICE, job.job_id)
    assert (done.status, done.progress_percent) == ("succeeded", 100)
    assert (done.transcript_text, done.transcript_language) == ("Bonjour à tous.", "fr")
    assert (done.transcript_duration, done.transcript_model) == (12.5, "whisper-1")
    assert (done.lease_owner, done.lease_expires_at) == (None, None)
    # Finished: nobody can claim it, and its former holder can no longer touch it.
    assert await store.jobs.claim_next("worker-2", 30) is None
    assert not await store.jobs.report_progress(job.job_id, "worker-1", 10)


async def test_a_failure_is_recorded_with_its_error_truncated(store: Store) -> None:
    job = await new_job(store)
    await store.jobs.claim_next("worker-1", 30)

    assert await store.jobs.fail(job.job_id, "worker-1", "ffmpeg exploded " + "!" * 10_000)

    failed = await store.jobs.get(ALICE, job.job_id)
    assert failed.status == "failed"
    assert failed.error.startswith("ffmpeg exploded") and len(failed.error) == MAX_ERROR_CHARS


async def test_a_released_job_is_claimed_again_at_once(store: Store) -> None:
    job = await new_job(store)
    await store.jobs.claim_next("worker-1", 30)

    assert await store.jobs.release(job.job_id, "worker-1")

    again = await store.jobs.claim_next("worker-2", 30)
    assert again is not None and again.job_id == job.job_id
    assert (again.lease_owner, again.attempts) == ("worker-2", 2)


async def test_progress_must_be_a_percentage(store: Store) -> None:
    job = await new_job(store)
    await store.jobs.claim_next("worker-1", 30)

    for bad in (-1, 101, 50.5, "50"):
        with pytest.raises(InvalidArgument, match="progress_percent"):
            await store.jobs.report_progress(job.job_id, "worker-1", bad)  # type: ignore[arg-type]


async def test_an_expired_lease_hands_the_job_over_and_the_old_holder_loses_it(
    store: Store,
) -> None:
    job = await new_job(store)
    first = await store.jobs.claim_next("worker-1", SHORT_LEASE_S)
    assert first is not None

    await asyncio.sleep(SHORT_LEASE_S + 0.2)  # worker-1 died without renewing
    second = await store.jobs.claim_next("worker-2", 30)

    assert second is not None and second.job_id == job.job_id
    assert (second.lease_owner, second.attempts, second.progress_percent) == ("worker-2", 2, 0)
    assert not await store.jobs.renew_lease(job.job_id, "worker-1", 30)
    assert not await store.jobs.complete(job.job_id, "worker-1", TranscriptResult("late"))
    assert await store.jobs.complete(job.job_id, "worker-2", TranscriptResult("on time"))
    assert (await store.jobs.get(ALICE, job.job_id)).transcript_text == "on time"


async def test_a_renewed_lease_does_not_expire(store: Store) -> None:
    job = await new_job(store)
    await store.jobs.claim_next("worker-1", SHORT_LEASE_S)

    assert await store.jobs.renew_lease(job.job_id, "worker-1", 30)
    await asyncio.sleep(SHORT_LEASE_S + 0.2)

    assert await store.jobs.claim_next("worker-2", 30) is None


async def test_concurrent_claimers_get_each_job_exactly_once(store: Store) -> None:
    created = {(await new_job(store, name=f"{i}.mp3")).job_id for i in range(12)}

    async def worker(name: str) -> list[str]:
        mine = []
        while (job := await store.jobs.claim_next(name, 30)) is not None:
            mine.append(job.job_id)
        return mine

    claims = await asyncio.gather(*(worker(f"worker-{n}") for n in range(4)))

    everything = [job_id for mine in claims for job_id in mine]
    assert sorted(everything) == sorted(created)


async def test_two_store_instances_on_the_same_data_claim_each_job_once(
    store: Store, open_same_store
) -> None:
    other_instance = await open_same_store()
    created = {(await new_job(store, name=f"{i}.mp3")).job_id for i in range(12)}

    async def worker(instance: Store, name: str) -> list[str]:
        mine = []
        while (job := await instance.jobs.claim_next(name, 30)) is not None:
            mine.append(job.job_id)
        return mine

    claims = await asyncio.gather(
        *(worker(instance, f"w{n}") for n, instance in enumerate([store, other_instance] * 2))
    )

    everything = [job_id for mine in claims for job_id in mine]
    assert sorted(everything) == sorted(created)


async def test_a_cancelled_job_is_never_claimed(store: Store) -> None:
    job = await new_job(store)

    cancelled = await store.jobs.cancel(ALICE, job.job_id)

    assert cancelled.status == "cancelled"
    assert await store.jobs.claim_next("worker-1", 30) is None
    assert (await store.jobs.cancel(ALICE, job.job_id)).status == "cancelled"  # idempotent


async def test_cancelling_a_running_job_takes_it_from_its_worker(store: Store) -> None:
    job = await new_job(store)
    await store.jobs.claim_next("worker-1", 30)

    cancelled = await store.jobs.cancel(ALICE, job.job_id)

    assert (cancelled.status, cancelled.lease_owner) == ("cancelled", None)
    assert not await store.jobs.renew_lease(job.job_id, "worker-1", 30)
    assert not await store.jobs.complete(job.job_id, "worker-1", TranscriptResult("too late"))


async def test_a_finished_job_cannot_be_cancelled(store: Store) -> None:
    job = await new_job(store)
    await store.jobs.claim_next("worker-1", 30)
    await store.jobs.complete(job.job_id, "worker-1", TranscriptResult("done"))

    with pytest.raises(FailedPrecondition, match="succeeded"):
        await store.jobs.cancel(ALICE, job.job_id)


async def test_worker_calls_on_a_malformed_job_id_just_return_false(store: Store) -> None:
    for job_id in ("nope", {"$ne": None}, None):
        assert not await store.jobs.renew_lease(job_id, "worker-1", 30)  # type: ignore[arg-type]
    with pytest.raises(NotFound):
        await store.jobs.get(ALICE, {"$ne": None})  # type: ignore[arg-type]


@pytest.mark.parametrize("lease_s", [0, -1, float("inf"), float("nan"), "30", 10 * 86400])
async def test_a_lease_is_a_positive_number_of_seconds_up_to_a_day(
    store: Store, lease_s: object
) -> None:
    with pytest.raises(InvalidArgument, match="lease_s"):
        await store.jobs.claim_next("worker-1", lease_s)  # type: ignore[arg-type]
