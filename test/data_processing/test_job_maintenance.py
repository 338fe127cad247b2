"""What beat runs: warming the default answers, removing expired and stray exports,
recovering lost jobs."""

from __future__ import annotations

import datetime as dt
import os
import time

import pytest
from django.test import override_settings
from django.utils import timezone
from job_helpers import wait_for_state

from data_processing import services
from data_processing.exports import export_directory
from data_processing.models import Job, JobState


def test_warmed_default_answers_are_served_from_the_cache(alice_client, sample_contracts):
    services.results_warm_defaults()

    response = alice_client.post("/api/v1/data-processing/tasks/analytics/", {"filters": {}}, format="json")

    assert response.status_code == 200
    assert response.json()["status"] == "cached"
    assert response.json()["data"]["summary"]["count"] == len(sample_contracts)
    sync = alice_client.post("/api/v1/contracts/chip-aggregates/", {"filters": {}}, format="json").json()
    assert response.json()["data"] == sync


def test_cleanup_removes_export_files_past_the_result_lifetime(alice, live_db):
    old = Job.objects.create(
        owner=alice,
        kind="export",
        params={},
        cache_key="export:" + "1" * 32,
        fingerprint="a",
        state=JobState.SUCCESS,
        result_file="old.csv",
    )
    fresh = Job.objects.create(
        owner=alice,
        kind="export",
        params={},
        cache_key="export:" + "2" * 32,
        fingerprint="b",
        state=JobState.SUCCESS,
        result_file="fresh.csv",
        completed_at=timezone.now(),
    )
    Job.objects.filter(id=old.id).update(completed_at=timezone.now() - dt.timedelta(hours=2))
    (export_directory() / "old.csv").write_text("x")
    (export_directory() / "fresh.csv").write_text("x")

    with override_settings(RESULT_CACHE_TIMEOUT=1800):
        cleanup = services.jobs_cleanup()

    assert cleanup.export_files_removed == 1
    assert not (export_directory() / "old.csv").exists()
    assert (export_directory() / "fresh.csv").exists()
    old.refresh_from_db()
    fresh.refresh_from_db()
    assert old.result_file == "" and fresh.result_file == "fresh.csv"


@override_settings(RESULT_CACHE_TIMEOUT=1800, CELERY_TASK_TIME_LIMIT=900, JOB_HARD_LIMIT_GRACE_SECONDS=10)
def test_cleanup_removes_files_no_job_accounts_for_once_nothing_can_be_writing_them(db, settings, tmp_path):
    """A .part file whose worker was killed outright, and a finished file whose job row went
    with its deleted user: nothing else would ever remove them."""
    settings.MEDIA_ROOT = tmp_path
    directory = export_directory()
    now = time.time()
    ages = {
        "killed-writer.part": 910 + 60,  # past the longest an export may run
        "still-writing.part": 60,
        "deleted-user.csv": 1800 + 910 + 60,  # past the result lifetime and that margin
        "recent-orphan.csv": 1800,  # a host's clock may be minutes off: not yet
    }
    for name, age in ages.items():
        path = directory / name
        path.write_text("x")
        os.utime(path, (now - age, now - age))

    cleanup = services.jobs_cleanup()

    assert cleanup.stray_files_removed == 2
    assert sorted(path.name for path in directory.iterdir()) == [
        "recent-orphan.csv",
        "still-writing.part",
    ]


@pytest.mark.integration
@pytest.mark.usefixtures("celery_worker_process")
def test_a_job_lost_with_its_queue_is_queued_again_and_runs(alice, sample_contracts):
    # As after a Redis restart: the row says PENDING, but no message exists anywhere.
    job = Job.objects.create(
        owner=alice, kind="search", params={"filters": {}}, cache_key="search:" + "3" * 32, fingerprint="c"
    )
    Job.objects.filter(id=job.id).update(updated_at=timezone.now() - dt.timedelta(minutes=10))

    assert services.jobs_recover() == 1
    wait_for_state(str(job.id), JobState.SUCCESS)


def test_a_job_queued_too_long_fails_with_a_clear_message(alice, live_db):
    job = Job.objects.create(
        owner=alice, kind="search", params={"filters": {}}, cache_key="search:" + "4" * 32, fingerprint="d"
    )
    Job.objects.filter(id=job.id).update(created_at=timezone.now() - dt.timedelta(hours=2))

    with override_settings(JOB_QUEUE_GIVE_UP_SECONDS=3600):
        services.jobs_recover()

    job.refresh_from_db()
    assert job.state == JobState.FAILURE
    assert "submit it again" in job.error
