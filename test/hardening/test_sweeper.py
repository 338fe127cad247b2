"""The sweeper's rules, on real rows: what a hard time limit, an attempts cap, a broker
outage and a worker killed outright leave behind is put right at its next run (every
minute under beat)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from job_helpers import point_celery_at, stored_job, wait_for_blocked_worker, wait_for_state

from data_processing import services
from data_processing.models import RUNNING_STATES, Job, JobState


@pytest.fixture
def make_job(alice):
    def make(**fields) -> Job:
        n = Job.objects.count()
        defaults = {
            "owner": alice,
            "kind": "search",
            "params": {"filters": {}},
            "cache_key": f"search:{n:032d}",
            "fingerprint": f"{n:064d}",
        }
        job = Job.objects.create(**defaults | fields)
        # auto_now would overwrite updated_at on save: set the past with an update.
        Job.objects.filter(id=job.id).update(**{k: v for k, v in fields.items() if k == "updated_at"})
        return job

    return make


def test_a_job_running_past_its_hard_time_limit_is_failed_not_run_again(make_job, settings):
    settings.CELERY_TASK_TIME_LIMIT = 900
    started = timezone.now() - timedelta(seconds=900 + settings.JOB_HARD_LIMIT_GRACE_SECONDS + 1)
    killed = make_job(state=JobState.STARTED, started_at=started, attempts=1, updated_at=started)
    running = make_job(
        state=JobState.PROGRESS, started_at=timezone.now() - timedelta(seconds=800), attempts=1
    )

    assert services.jobs_recover() == 0

    killed.refresh_from_db()
    assert killed.state == JobState.FAILURE
    assert "hard time limit of 900 s" in killed.error
    running.refresh_from_db()
    assert running.state == JobState.PROGRESS


def test_a_job_out_of_attempts_is_failed_by_the_sweeper_instead_of_queued_again(make_job, settings):
    old = timezone.now() - timedelta(seconds=settings.JOB_REQUEUE_AFTER_SECONDS + 1)
    job = make_job(state=JobState.RETRY, attempts=settings.JOB_MAX_ATTEMPTS, updated_at=old)

    assert services.jobs_recover() == 0

    job.refresh_from_db()
    assert job.state == JobState.FAILURE
    assert f"started {settings.JOB_MAX_ATTEMPTS} times" in job.error


def test_a_job_the_broker_refused_is_queued_at_the_next_sweep_not_after_minutes(make_job, settings):
    settings.JOB_REQUEUE_AFTER_SECONDS = 300
    refused = make_job(message=services.BROKER_WAIT_MESSAGE)
    waiting = make_job(message="Search task has been queued.")  # in the queue: leave it be

    assert services.jobs_recover() == 1

    refused.refresh_from_db()
    assert refused.message == "Search task has been queued."
    assert refused.state == JobState.PENDING
    waiting.refresh_from_db()
    assert waiting.updated_at <= refused.updated_at


def _quiet_running_job(owner, seconds: float) -> Job:
    """A job row that says a worker started it ``seconds`` ago and has not touched it since."""
    then = timezone.now() - timedelta(seconds=seconds)
    job = stored_job(owner, "search", {"filters": {}}, state=JobState.STARTED, started_at=then, attempts=1)
    Job.objects.filter(id=job.id).update(updated_at=then)
    return job


@pytest.mark.integration
@pytest.mark.usefixtures("celery_worker_process")
def test_a_running_job_that_no_live_worker_runs_is_queued_again_and_runs(alice, live_db, settings):
    # As after its whole worker was killed: the row says STARTED, no worker has its task.
    settings.JOB_LOST_AFTER_SECONDS = 5
    lost = _quiet_running_job(alice, 6)
    just_claimed = _quiet_running_job(alice, 1)  # its worker may not list it yet: leave it be

    assert services.jobs_recover() == 1

    assert Job.objects.get(id=just_claimed.id).state == JobState.STARTED
    job = wait_for_state(str(lost.id), JobState.SUCCESS)
    assert job.attempts == 2


@pytest.mark.integration
@pytest.mark.usefixtures("celery_worker_process")
def test_a_quiet_job_that_a_live_worker_runs_is_left_alone(alice, live_db, table_lock, settings):
    settings.JOB_LOST_AFTER_SECONDS = 5
    with table_lock():
        job = services.job_submit(owner=alice, kind="analytics", payload={"filters": {}}).job
        wait_for_blocked_worker()
        Job.objects.filter(id=job.id).update(updated_at=timezone.now() - timedelta(minutes=10))

        assert services.jobs_recover() == 0
        job.refresh_from_db()
        assert job.state in RUNNING_STATES

    job = wait_for_state(str(job.id), JobState.SUCCESS)
    assert job.attempts == 1


def test_nothing_is_taken_for_lost_when_the_workers_cannot_be_asked(alice, settings):
    settings.JOB_LOST_AFTER_SECONDS = 5
    job = _quiet_running_job(alice, 600)
    point_celery_at("redis://127.0.0.1:1/0")  # a broker that does not answer: nothing listens there
    try:
        assert services.jobs_recover() == 0
    finally:
        point_celery_at(settings.CELERY_BROKER_URL)

    assert Job.objects.get(id=job.id).state == JobState.STARTED
