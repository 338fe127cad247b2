"""The job table's plain-SQL statements (data_processing/job_rows.py), on both databases.

PostgreSQL runs them in every job test; SQLite, what `make run` uses when no PostgreSQL is
configured, gets its own run of a job's whole life in a fresh process and database.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
import pytest
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from job_helpers import blocked_backend_pids, dsn, wait_until

from data_processing import job_rows
from data_processing.models import Job, JobState

ROOT = Path(__file__).resolve().parents[2]


def new_job(owner, **fields) -> Job:
    fields = {
        "kind": "search",
        "params": {"filters": {}},
        "cache_key": f"search:{uuid.uuid4().hex}",
        **fields,
    }
    job = Job(owner=owner, **fields)
    assert job_rows.insert_below_limits(job, max_active=1_000_000).inserted
    return job


@pytest.mark.django_db
def test_an_inserted_job_reads_back_as_the_orm_would_write_it(alice):
    job = new_job(alice, message="Queued.")

    stored = Job.objects.get(id=job.id)
    assert (stored.owner_id, stored.state, stored.message, stored.params) == (
        alice.pk,
        "PENDING",
        "Queued.",
        {"filters": {}},
    )
    assert stored.created_at == job.created_at and stored.updated_at == job.updated_at
    assert stored.created_at.tzinfo is not None
    assert job_rows.active_for(alice.pk, job.cache_key) == stored


@pytest.mark.django_db
def test_a_transition_moves_only_a_job_in_one_of_its_states(alice):
    job = new_job(alice)
    now = dt.datetime.now(dt.UTC)

    assert job_rows.transition(job.id, states=[JobState.STARTED], changes={"message": "no"}) is None
    moved = job_rows.transition(
        job.id,
        states=[JobState.PENDING],
        changes={"state": JobState.STARTED, "started_at": now},
        count_attempt=True,
    )

    assert (moved.state, moved.started_at, moved.attempts) == (JobState.STARTED, now, 1)
    assert Job.objects.get(id=job.id).attempts == 1


@pytest.mark.django_db(transaction=True)
def test_a_workers_transition_is_one_round_trip_that_does_not_wait_for_the_flush(alice):
    job = new_job(alice)

    with CaptureQueriesContext(connection) as queries:
        moved = job_rows.transition(job.id, states=[JobState.PENDING], changes={"state": JobState.STARTED})

    assert moved.state == JobState.STARTED and Job.objects.get(id=job.id).state == JobState.STARTED
    assert len(queries) == 1
    assert queries[0]["sql"].startswith("SET LOCAL synchronous_commit TO OFF; UPDATE")


@pytest.mark.django_db(transaction=True)
def test_a_new_job_is_locked_counted_inserted_and_committed_in_one_round_trip(alice):
    new_job(alice)
    job = Job(owner=alice, kind="search", params={"filters": {}}, cache_key=f"search:{uuid.uuid4().hex}")
    over = Job(owner=alice, kind="search", params={"filters": {}}, cache_key=f"search:{uuid.uuid4().hex}")

    with CaptureQueriesContext(connection) as queries:
        inserted = job_rows.insert_below_limits(job, max_active=2, kinds=["search"], max_of_kinds=2)
    refused = job_rows.insert_below_limits(over, max_active=3, kinds=["search"], max_of_kinds=2)

    assert inserted[:4] == (True, 1, 1, False) and refused[:4] == (False, 2, 2, False)
    assert len(queries) == 1 and " FOR UPDATE; WITH twin AS " in queries[0]["sql"]
    assert Job.objects.get(id=job.id).created_at == job.created_at
    assert not Job.objects.filter(id=over.id).exists()


def counted(job: Job, **limits) -> tuple[bool, int, int, bool, uuid.UUID | None]:
    """``insert_below_limits`` with its twin named by id."""
    found = job_rows.insert_below_limits(job, **limits)
    return (*found[:4], found.twin.id if found.twin else None)


@pytest.mark.django_db(transaction=True)
def test_an_identical_active_job_is_found_under_the_lock_and_nothing_inserted(alice, bob):
    queued = new_job(alice, message="Queued.")
    twin = Job(owner=alice, kind="search", params={"filters": {}}, cache_key=queued.cache_key)
    others = Job(owner=bob, kind="search", params={"filters": {}}, cache_key=queued.cache_key)

    with CaptureQueriesContext(connection) as queries:
        found = job_rows.insert_below_limits(twin, max_active=5)

    assert len(queries) == 1 and "WITH twin AS " in queries[0]["sql"]
    assert found[:4] == (False, 1, 0, False)
    assert found.twin == Job.objects.get(id=queued.id)
    assert (found.twin.message, found.twin.created_at) == ("Queued.", queued.created_at)
    # Joined whatever the limits: a twin costs its owner nothing more.
    assert counted(twin, max_active=1) == (False, 1, 0, False, queued.id)
    # Another owner's job is no twin, and a finished one is not joined.
    assert counted(others, max_active=5) == (True, 0, 0, False, None)
    Job.objects.filter(id=queued.id).update(state=JobState.SUCCESS)
    assert counted(twin, max_active=5) == (True, 0, 0, False, None)
    assert Job.objects.filter(owner=alice, cache_key=queued.cache_key).count() == 2


@pytest.mark.django_db(transaction=True)
def test_a_duplicate_is_kept_out_by_the_insert_itself_and_said_to_be_one(alice):
    new_job(alice, idempotency_key="key-1")
    same_key = Job(
        owner=alice, kind="search", params={}, cache_key=f"search:{uuid.uuid4().hex}", idempotency_key="key-1"
    )
    over = Job(owner=alice, kind="search", params={}, cache_key=f"search:{uuid.uuid4().hex}")

    assert counted(same_key, max_active=5) == (False, 1, 0, True, None)
    # A limit is reported as such, not as a duplicate.
    assert counted(over, max_active=1) == (False, 1, 0, False, None)


@pytest.mark.django_db(transaction=True)
def test_a_new_job_waits_for_the_owners_lock_and_counts_what_its_holder_committed(alice):
    """Without the lock, or with the count taken before it was granted, the job would go in
    as the owner's second active job against a limit of one."""
    finished = new_job(alice, state=JobState.SUCCESS)
    job = Job(owner=alice, kind="search", params={"filters": {}}, cache_key=f"search:{uuid.uuid4().hex}")

    def insert_in_its_own_connection() -> job_rows.Counted:
        try:
            return job_rows.insert_below_limits(job, max_active=1)
        finally:
            connection.close()

    users, jobs = get_user_model()._meta.db_table, Job._meta.db_table
    with psycopg.connect(dsn()) as holder, ThreadPoolExecutor(1) as pool:
        holder.execute(f"SELECT 1 FROM {users} WHERE id = %s FOR UPDATE", [alice.pk])
        counted = pool.submit(insert_in_its_own_connection)
        wait_until(blocked_backend_pids, what="the insert to wait for the owner's lock")
        holder.execute(f"UPDATE {jobs} SET state = 'PENDING' WHERE id = %s", [finished.id])
        holder.commit()
        assert counted.result(timeout=30)[:4] == (False, 1, 0, False)
    assert not Job.objects.filter(id=job.id).exists()


@pytest.mark.django_db
def test_inside_a_callers_transaction_a_workers_transition_leaves_its_durability_alone(alice):
    job = new_job(alice)

    with transaction.atomic():
        job_rows.transition(job.id, states=[JobState.PENDING], changes={"state": JobState.STARTED})
        with connection.cursor() as cursor:
            cursor.execute("SHOW synchronous_commit")
            assert cursor.fetchone()[0] == "on"


@pytest.mark.django_db
def test_a_running_job_is_claimed_again_only_once_quiet_and_within_its_attempts(alice):
    now = dt.datetime.now(dt.UTC)
    job = new_job(alice, state=JobState.STARTED, attempts=1)
    claim = {
        "states": [JobState.PENDING],
        "quiet_states": [JobState.STARTED],
        "changes": {"message": "again"},
    }

    assert job_rows.transition(job.id, quiet_before=now - dt.timedelta(hours=1), **claim) is None
    assert (
        job_rows.transition(job.id, quiet_before=now + dt.timedelta(hours=1), max_attempts=1, **claim) is None
    )
    assert (
        job_rows.transition(job.id, quiet_before=now + dt.timedelta(hours=1), max_attempts=2, **claim).message
        == "again"
    )


@pytest.mark.django_db
def test_active_jobs_are_counted_in_all_and_by_kind(alice, bob):
    new_job(alice)
    new_job(alice, kind="export-csv")
    new_job(alice, state=JobState.SUCCESS)
    new_job(bob)

    assert job_rows.count_active(alice.pk) == (2, 0)
    assert job_rows.count_active(alice.pk, ["export-csv", "analytics"]) == (2, 1)


SQLITE_LIFE = """
import datetime as dt, uuid
from django.contrib.auth import get_user_model
from data_processing import job_rows, services
from data_processing.models import Job, JobState

owner = get_user_model().objects.create_user("sqlite-owner", password="x" * 12)
job = Job(owner=owner, kind="search", params={"filters": {}}, cache_key="search:" + uuid.uuid4().hex)
assert job_rows.insert_below_limits(job, max_active=1) == (True, 0, 0, False, None)
over = Job(owner=owner, kind="search", params={"filters": {}}, cache_key="search:" + uuid.uuid4().hex)
assert job_rows.insert_below_limits(over, max_active=1) == (False, 1, 0, False, None)
twin = Job(owner=owner, kind="search", params={"filters": {}}, cache_key=job.cache_key)
assert job_rows.insert_below_limits(twin, max_active=1).twin.id == job.id
same_key = Job(owner=owner, kind="search", params={}, cache_key="search:x", idempotency_key="k")
assert job_rows.insert_below_limits(same_key, max_active=5).inserted
again = Job(owner=owner, kind="search", params={}, cache_key="search:y", idempotency_key="k")
assert job_rows.insert_below_limits(again, max_active=5) == (False, 2, 0, True, None)
assert job_rows.active_for(owner.pk, job.cache_key).id == job.id
claimed = services.job_claim(str(job.id))
assert (claimed.state, claimed.attempts) == (JobState.STARTED, 1), claimed
assert isinstance(claimed.started_at, dt.datetime) and claimed.started_at.tzinfo is not None
assert services.job_claim(str(job.id)) is None  # running, and not quiet: nobody else's
services.job_succeed(claimed)
done = Job.objects.get(id=job.id)
assert (done.state, done.progress, done.completed_at is not None) == (JobState.SUCCESS, 100, True)
assert job_rows.count_active(owner.pk) == (1, 0)  # same_key, still queued
print("sqlite job life: ok")
"""


SQLITE_CONCURRENT_SUBMITS = """
import uuid
from concurrent.futures import ThreadPoolExecutor
from django.contrib.auth import get_user_model
from django.db import connection
from data_processing import job_rows
from data_processing.models import Job

owner = get_user_model().objects.create_user("sqlite-burst", password="x" * 12)

def submit(n):
    job = Job(owner=owner, kind="search", params={"filters": {}}, cache_key="search:" + uuid.uuid4().hex)
    try:
        return job_rows.insert_below_limits(job, max_active=5).inserted
    finally:
        connection.close()

with ThreadPoolExecutor(16) as pool:
    inserted = list(pool.map(submit, range(48)))
assert inserted.count(True) == 5, inserted
assert job_rows.count_active(owner.pk) == (5, 0)
print("sqlite concurrent submits: ok")
"""


def test_one_users_concurrent_submits_on_sqlite_wait_for_each_other_and_keep_the_limit(tmp_path: Path):
    """Begun deferred, two transactions that count and then insert deadlock on the write
    lock's upgrade, and SQLite fails one at once ("database is locked": a 500 on `make run`'s
    default database); they must wait for each other instead."""
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'jobs.sqlite3'}"}
    env["DJANGO_SETTINGS_MODULE"] = "config.settings.local"
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "-v0"], env=env, check=True, timeout=120)
    done = subprocess.run(
        [*manage, "shell", "-c", SQLITE_CONCURRENT_SUBMITS],
        env=env,
        timeout=120,
        capture_output=True,
        text=True,
    )

    assert done.returncode == 0, done.stderr[-3000:]
    assert "sqlite concurrent submits: ok" in done.stdout


def test_a_job_lives_its_whole_life_on_sqlite(tmp_path: Path, settings):
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'jobs.sqlite3'}",
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "REDIS_URL": settings.REDIS_URL,
        "CHANNEL_LAYER_PREFIX": f"sqlite-{uuid.uuid4().hex[:8]}",
    }
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "-v0"], env=env, check=True, timeout=120)
    done = subprocess.run(
        [*manage, "shell", "-c", SQLITE_LIFE], env=env, timeout=120, capture_output=True, text=True
    )

    assert done.returncode == 0, done.stderr
    assert "sqlite job life: ok" in done.stdout
