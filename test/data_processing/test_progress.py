"""Progress reports (data_processing/progress.py): monotonic, below 100, rate-limited, and
written as one statement that does not wait for the WAL flush."""

from __future__ import annotations

import time
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from data_processing import services
from data_processing.models import Job, JobState
from data_processing.progress import ProgressReporter, percent_done


def claimed_job(owner) -> Job:
    job = Job.objects.create(
        owner=owner, kind="search", params={"filters": {}}, cache_key=f"search:{uuid.uuid4().hex}"
    )
    return services.job_claim(str(job.id))


def stored(job: Job) -> tuple[str, int, str]:
    job.refresh_from_db()
    return job.state, job.progress, job.message


@pytest.mark.django_db
def test_progress_is_written_at_most_once_per_interval_counting_the_start(alice):
    job = claimed_job(alice)
    report = ProgressReporter(job, min_interval=0.2)

    report(10, 100, "Too soon after the start")
    at_start = stored(job)
    time.sleep(0.25)
    report(30, 100, "Counting")
    report(40, 100, "Too soon after the last")
    counting = stored(job)
    time.sleep(0.25)
    report(50, 100, "Halfway")

    assert at_start == (JobState.STARTED, 0, "Started.")
    assert counting == (JobState.PROGRESS, 30, "Counting")
    assert stored(job) == (JobState.PROGRESS, 50, "Halfway")


@pytest.mark.django_db
def test_progress_never_goes_back_and_stops_short_of_100(alice):
    job = claimed_job(alice)
    report = ProgressReporter(job, min_interval=0)

    report(70, 100)
    report(30, 100)

    assert stored(job)[:2] == (JobState.PROGRESS, 70)
    assert percent_done(100, 100) == 99 and percent_done(5, 0) == 0


@pytest.mark.django_db(transaction=True)
def test_a_progress_write_is_one_statement(alice):
    job = claimed_job(alice)

    with CaptureQueriesContext(connection) as queries:
        ProgressReporter(job, min_interval=0)(25, 100, "A quarter")

    assert stored(job)[:2] == (JobState.PROGRESS, 25)
    assert [query["sql"].split(";")[0] for query in queries] == ["SET LOCAL synchronous_commit TO OFF"]
