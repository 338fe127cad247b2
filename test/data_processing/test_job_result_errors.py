"""A result or file that is not there answers with its named error, in the one error shape."""

from __future__ import annotations

import pytest

from data_processing.models import Job, JobState

TASKS = "/api/v1/data-processing/tasks"


@pytest.fixture
def job_of(alice):
    def make(kind: str, state: str, **fields) -> Job:
        return Job.objects.create(
            owner=alice,
            kind=kind,
            params={"filters": {}},
            cache_key=f"{kind}:" + "e" * 32,
            fingerprint="f" * 64,
            state=state,
            **fields,
        )

    return make


@pytest.mark.parametrize(
    ("state", "http_status", "status", "code"),
    [
        (JobState.FAILURE, 409, "failed", "job_failed"),
        (JobState.REVOKED, 409, "revoked", "job_revoked"),
        (JobState.SUCCESS, 410, "expired", "result_expired"),
        (JobState.PROGRESS, 202, "not_ready", "result_not_ready"),
    ],
)
def test_a_missing_result_says_why_in_the_error_shape(alice_client, job_of, state, http_status, status, code):
    job = job_of("search", state, error="The database went away." if state == JobState.FAILURE else "")

    response = alice_client.get(f"{TASKS}/result/", {"cache_key": job.cache_key})

    assert response.status_code == http_status
    body = response.json()
    assert (body["status"], body["code"], body["task_id"]) == (status, code, str(job.id))
    assert body["message"] and body["errors"] == {}
    if state == JobState.FAILURE:
        assert body["error"] == "The database went away."
    if state == JobState.PROGRESS:
        assert (body["state"], body["progress"], response["Retry-After"]) == ("PROGRESS", 0, "1")
    if state == JobState.SUCCESS:  # expired by age, or evicted from a full cache first
        assert "less when the cache is full" in body["message"]


def test_downloading_an_unfinished_export_answers_409(alice_client, job_of):
    job = job_of("export", JobState.STARTED)

    response = alice_client.get(f"{TASKS}/{job.id}/download/")

    assert response.status_code == 409
    assert response.json()["code"] == "export_not_ready"
    assert response.json()["state"] == "STARTED"


def test_a_job_that_writes_no_file_has_nothing_to_download(alice_client, job_of):
    job = job_of("search", JobState.SUCCESS)

    response = alice_client.get(f"{TASKS}/{job.id}/download/")

    assert response.status_code == 404
    assert response.json()["code"] == "no_file"
