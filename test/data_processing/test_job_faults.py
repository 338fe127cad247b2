"""Jobs survive faults: cancellation, bad stored input, dropped connections, time limits,
killed workers and a broker that is down. Faults are real, never mocked."""

from __future__ import annotations

import os
import signal

import pytest
from django.test import override_settings
from job_helpers import (
    point_celery_at,
    stored_job,
    terminate_backends,
    wait_for_blocked_worker,
    wait_for_state,
    wait_until,
)

from config.celery_app import app as celery_app
from data_processing import services
from data_processing.apis import JobSubmitThrottle
from data_processing.exports import export_path, partial_path
from data_processing.models import Job, JobState
from data_processing.tasks import run_job_task

pytestmark = [pytest.mark.integration]


def submit(client, kind: str, body: dict):
    return client.post(f"/api/v1/data-processing/tasks/{kind}/", body, format="json")


def cancel(client, task_id: str):
    return client.delete(f"/api/v1/data-processing/tasks/{task_id}/")


def analytics_for_year(year: int) -> dict:
    return {"filters": {"time_ranges": [str(year)]}}


@pytest.mark.usefixtures("celery_worker_process")
def test_cancelling_a_running_job_terminates_it_and_it_stays_revoked(
    alice_client, sample_contracts, table_lock
):
    with table_lock():
        task_id = submit(alice_client, "analytics", {"filters": {}}).json()["task_id"]
        wait_for_blocked_worker()
        response = cancel(alice_client, task_id)
        assert response.status_code == 200
        assert response.json()["state"] == "REVOKED"

    # The lock is gone: a surviving run would finish now. It must not.
    after = submit(alice_client, "analytics", analytics_for_year(2022)).json()
    wait_for_state(after["task_id"], JobState.SUCCESS)
    assert Job.objects.get(id=task_id).state == JobState.REVOKED
    assert cancel(alice_client, task_id).status_code == 409


@pytest.mark.usefixtures("celery_worker_process")
def test_cancelling_a_queued_job_means_it_never_runs(alice_client, sample_contracts, table_lock):
    with table_lock():
        # Two jobs occupy both worker processes; the third waits in the queue.
        running = [
            submit(alice_client, "analytics", analytics_for_year(y)).json()["task_id"] for y in (2022, 2023)
        ]
        wait_until(lambda: len(Job.objects.filter(state=JobState.STARTED)) == 2, what="two running jobs")
        queued = submit(alice_client, "analytics", analytics_for_year(2021)).json()["task_id"]
        assert Job.objects.get(id=queued).state == JobState.PENDING

        assert cancel(alice_client, queued).json()["state"] == "REVOKED"

    for task_id in running:
        wait_for_state(task_id, JobState.SUCCESS)
    job = Job.objects.get(id=queued)
    assert job.state == JobState.REVOKED
    assert job.started_at is None and job.attempts == 0


@pytest.mark.usefixtures("celery_worker_process")
def test_a_job_whose_stored_parameters_are_invalid_fails_at_once_without_retrying(alice, sample_contracts):
    job = stored_job(alice, "search", {"filters": {"page_size": 1000}})
    services.job_enqueue(job)

    job = wait_for_state(str(job.id), JobState.FAILURE)
    assert job.attempts == 1
    assert "filters.page_size" in job.error


@pytest.mark.usefixtures("celery_worker_process")
def test_an_export_that_meets_a_full_disk_fails_at_once_saying_so(alice, sample_contracts):
    job = stored_job(alice, "export", {"filters": {}})
    partial = partial_path(str(job.id), 1)  # its first attempt's
    partial.parent.mkdir(parents=True, exist_ok=True)
    partial.symlink_to("/dev/full")  # every write: ENOSPC, as on a full disk
    try:
        services.job_enqueue(job)
        job = wait_for_state(str(job.id), JobState.FAILURE)
    finally:
        partial.unlink(missing_ok=True)

    assert job.attempts == 1
    assert job.error == "The export could not be written: the server's disk is full. Try again later."
    assert not export_path(str(job.id)).exists()


@pytest.mark.usefixtures("celery_worker_process")
def test_a_dropped_database_connection_is_retried_and_the_job_then_succeeds(
    alice_client, sample_contracts, table_lock
):
    with table_lock():
        task_id = submit(alice_client, "analytics", {"filters": {}}).json()["task_id"]
        terminate_backends(wait_for_blocked_worker())
        wait_for_state(task_id, JobState.RETRY, JobState.STARTED, timeout=10)
        wait_until(lambda: Job.objects.get(id=task_id).attempts == 2, what="the second attempt")

    job = wait_for_state(task_id, JobState.SUCCESS)
    assert job.attempts == 2
    assert job.error == ""


@pytest.mark.usefixtures("celery_worker_process")
def test_a_job_over_its_soft_time_limit_fails_with_a_clear_error(alice, sample_contracts, table_lock):
    job = Job.objects.create(
        owner=alice,
        kind="analytics",
        params={"filters": {}},
        cache_key="analytics:" + "b" * 32,
        fingerprint="g" * 64,
    )
    with table_lock():
        run_job_task.apply_async(args=[str(job.id)], task_id=str(job.id), soft_time_limit=1, time_limit=30)
        job = wait_for_state(str(job.id), JobState.FAILURE, timeout=20)

    assert "time limit of 1" in job.error


def test_a_job_whose_worker_process_is_killed_runs_again_and_succeeds(
    alice_client, sample_contracts, table_lock, celery_worker_process
):
    with table_lock():
        task_id = submit(alice_client, "analytics", {"filters": {}}).json()["task_id"]
        wait_for_blocked_worker()
        for pid in celery_worker_process.children():
            os.kill(pid, signal.SIGKILL)  # the pool starts fresh processes; the message is requeued
        wait_until(lambda: Job.objects.get(id=task_id).attempts == 2, what="the redelivered run", timeout=30)

    job = wait_for_state(task_id, JobState.SUCCESS)
    assert job.attempts == 2


@pytest.fixture
def broker_down():
    """Point this process's Celery app at a port where no broker listens; yields `restore`."""
    original = celery_app.conf.broker_url
    point_celery_at("redis://127.0.0.1:1/0")
    yield lambda: point_celery_at(original)
    point_celery_at(original)


@pytest.mark.usefixtures("celery_worker_process")
def test_a_job_submitted_while_the_broker_is_down_waits_and_runs_once_it_is_back(
    alice_client, sample_contracts, broker_down
):
    response = submit(alice_client, "search", {"filters": {"keywords": ["road"]}})

    assert response.status_code == 202
    job = Job.objects.get(id=response.json()["task_id"])
    assert job.state == JobState.PENDING
    assert "broker" in job.message

    broker_down()  # the broker is back; the sweeper (beat, every minute) queues the job again
    with override_settings(JOB_REQUEUE_AFTER_SECONDS=0):
        assert services.jobs_recover() == 1
    wait_for_state(str(job.id), JobState.SUCCESS)


def test_submissions_are_throttled_per_user_with_retry_after(alice_client, bob_client, live_db, monkeypatch):
    monkeypatch.setattr(JobSubmitThrottle, "THROTTLE_RATES", {"job_submit": "2/min"})
    bad = {"filters": {"page_size": 0}}  # throttling comes before validation: no worker needed
    assert [submit(alice_client, "search", bad).status_code for _ in range(2)] == [400, 400]

    throttled = submit(alice_client, "search", bad)

    assert throttled.status_code == 429
    assert int(throttled["Retry-After"]) > 0
    assert throttled.json()["code"] == "throttled"
    assert submit(bob_client, "search", bad).status_code == 400  # bob has his own budget
