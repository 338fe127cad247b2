"""The sweeper's rules, on real rows: what a hard time limit, an attempts cap and a broker
outage leave behind is put right at its next run (every minute under beat)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from data_processing import services
from data_processing.models import Job, JobState


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
