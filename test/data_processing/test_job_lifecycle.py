"""Submit → worker → status → result, for every kind of job, against a real Celery worker."""

from __future__ import annotations

import csv
import io

import pytest
from job_helpers import wait_for_state

from data_processing.models import Job, JobState

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("celery_worker_process")]

SEARCH = {"filters": {"areas": ["Metro Manila"], "keywords": ["road"], "page": 1, "page_size": 5}}
SUBMITS = [
    ("search", "/api/v1/contracts/chip-search/", SEARCH),
    ("analytics", "/api/v1/contracts/chip-aggregates/", {"filters": {"time_ranges": ["2023"]}, "top_n": 3}),
    (
        "entity-table",
        "/api/v1/contracts/chip-aggregates-paginated/",
        {"filters": {}, "entity_type": "contractor", "page": 1, "page_size": 2, "ordering": "name"},
    ),
]


def submit(client, kind: str, body: dict, **headers):
    return client.post(f"/api/v1/data-processing/tasks/{kind}/", body, format="json", headers=headers)


def result_of(client, cache_key: str):
    return client.get("/api/v1/data-processing/tasks/result/", {"cache_key": cache_key})


@pytest.mark.parametrize(("kind", "sync_url", "body"), SUBMITS, ids=[s[0] for s in SUBMITS])
def test_a_job_runs_on_the_worker_and_its_result_equals_the_synchronous_answer(
    alice_client, sample_contracts, kind, sync_url, body
):
    response = submit(alice_client, kind, body)

    assert response.status_code == 202, response.json()
    queued = response.json()
    assert queued["status"] == "queued"
    assert queued["cache_key"].startswith(kind.replace("-", "_") + ":")
    assert response["Location"] == f"/api/v1/data-processing/tasks/status/?task_id={queued['task_id']}"
    assert int(response["Retry-After"]) >= 1

    wait_for_state(queued["task_id"], JobState.SUCCESS)
    status = alice_client.get(response["Location"]).json()
    assert status["state"] == "SUCCESS"
    assert status["progress"] == 100 == status["meta"]["progress"]
    assert status["started_at"] and status["completed_at"]
    assert status["error"] is None

    result = result_of(alice_client, queued["cache_key"])
    assert result.status_code == 200
    assert result.json()["status"] == "success"
    assert result.json()["data"] == alice_client.post(sync_url, body, format="json").json()


def test_an_export_writes_every_matching_contract_to_a_csv_its_owner_can_download(
    alice_client, sample_contracts
):
    response = submit(alice_client, "export", {"filters": {"keywords": ["road"]}})
    assert response.status_code == 202

    wait_for_state(response.json()["task_id"], JobState.SUCCESS)
    data = result_of(alice_client, response.json()["cache_key"]).json()["data"]
    download = alice_client.get(data["download_url"])

    assert download.status_code == 200
    assert download["Content-Type"] == "text/csv"
    rows = list(csv.DictReader(io.StringIO(b"".join(download.streaming_content).decode())))
    expected = sorted(c.reference_id for c in sample_contracts if "road" in c.title)
    assert sorted(row["Award Reference No."] for row in rows) == expected
    assert data["row_count"] == len(expected) == 80
    status = alice_client.get(f"/api/v1/data-processing/tasks/status/?task_id={response.json()['task_id']}")
    assert status.json()["download_url"] == data["download_url"]


def test_a_second_identical_request_is_answered_from_the_cache(alice_client, sample_contracts):
    first = submit(alice_client, "search", SEARCH).json()
    wait_for_state(first["task_id"], JobState.SUCCESS)

    # Same request, chips reordered, re-cased and padded: still the same cache key.
    again = {"filters": {"keywords": ["  ROAD "], "areas": ["metro manila", "Metro Manila"], "page_size": 5}}
    response = submit(alice_client, "search", again)

    assert response.status_code == 200
    assert response.json()["status"] == "cached"
    assert response.json()["cache_key"] == first["cache_key"]
    assert response.json()["data"] == result_of(alice_client, first["cache_key"]).json()["data"]
    # The finished job is reused: paging back and forth adds no job per cached answer.
    assert response.json()["task_id"] == first["task_id"]
    assert Job.objects.filter(kind="search").count() == 1


def test_a_new_import_changes_the_cache_key(alice_client, sample_contracts):
    from contracts.models import DatasetVersion

    first = submit(alice_client, "search", SEARCH).json()
    DatasetVersion.bump()
    second = submit(alice_client, "search", SEARCH).json()

    assert second["cache_key"] != first["cache_key"]
    assert second["status"] == "queued"


def test_an_identical_job_already_queued_is_not_enqueued_twice(alice_client, sample_contracts, table_lock):
    with table_lock():
        first = submit(alice_client, "analytics", {"filters": {}})
        second = submit(alice_client, "analytics", {"filters": {}})

        assert first.status_code == second.status_code == 202
        assert second.json()["task_id"] == first.json()["task_id"]
        assert second.json()["deduplicated"] is True
        assert Job.objects.filter(kind="analytics").count() == 1
    wait_for_state(first.json()["task_id"], JobState.SUCCESS)


def test_the_same_idempotency_key_returns_the_same_job_and_refuses_another_body(
    alice_client, sample_contracts
):
    first = submit(alice_client, "search", SEARCH, **{"Idempotency-Key": "k-1"})
    replay = submit(alice_client, "search", SEARCH, **{"Idempotency-Key": "k-1"})
    other = submit(alice_client, "search", {"filters": {"keywords": ["paper"]}}, **{"Idempotency-Key": "k-1"})

    assert replay.json()["task_id"] == first.json()["task_id"]
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"
    wait_for_state(first.json()["task_id"], JobState.SUCCESS)


def test_a_result_asked_for_after_it_expired_says_so_and_asks_for_a_resubmit(alice_client, sample_contracts):
    from data_processing.result_cache import redis_client

    queued = submit(alice_client, "search", SEARCH).json()
    wait_for_state(queued["task_id"], JobState.SUCCESS)
    redis_client().delete(queued["cache_key"])  # what the key's TTL does at expiry

    response = result_of(alice_client, queued["cache_key"])

    assert response.status_code == 410
    assert response.json()["status"] == "expired"
    assert "submit" in response.json()["message"]
    assert (
        alice_client.get(f"/api/v1/data-processing/tasks/status/?task_id={queued['task_id']}").json()["state"]
        == "SUCCESS"
    )


def test_a_result_not_ready_yet_answers_202(alice_client, sample_contracts, table_lock):
    with table_lock():
        queued = submit(alice_client, "analytics", {"filters": {}}).json()
        response = result_of(alice_client, queued["cache_key"])
        assert response.status_code == 202
        assert response.json()["status"] == "not_ready"
    wait_for_state(queued["task_id"], JobState.SUCCESS)


def test_async_mode_on_a_chip_endpoint_answers_like_the_async_endpoint(alice_client, sample_contracts):
    response = alice_client.post(
        "/api/v1/contracts/chip-search/", {**SEARCH, "async_mode": True}, format="json"
    )

    assert response.status_code == 202
    assert response.json()["status"] == "queued"
    wait_for_state(response.json()["task_id"], JobState.SUCCESS)
    sync = alice_client.post("/api/v1/contracts/chip-search/", {**SEARCH, "async_mode": False}, format="json")
    assert sync.status_code == 200
    assert result_of(alice_client, response.json()["cache_key"]).json()["data"] == sync.json()


def test_the_job_list_shows_the_callers_jobs_newest_first_and_filters_by_state(
    alice_client, sample_contracts
):
    ids = [
        submit(alice_client, "search", {"filters": {"keywords": [f"#{n}"]}}).json()["task_id"]
        for n in range(3)
    ]
    for task_id in ids:
        wait_for_state(task_id, JobState.SUCCESS)

    listing = alice_client.get("/api/v1/data-processing/tasks/").json()
    assert [job["task_id"] for job in listing["results"]] == ids[::-1]
    assert listing["count"] == 3
    assert alice_client.get("/api/v1/data-processing/tasks/", {"state": "FAILURE"}).json()["count"] == 0
    assert alice_client.get("/api/v1/data-processing/tasks/", {"state": "SUCCESS"}).json()["count"] == 3


def test_identical_submissions_racing_each_other_make_one_job(alice, sample_contracts, table_lock):
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connections
    from rest_framework.test import APIClient

    def one_submit(_: int) -> str:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {alice.auth_token.key}")
        try:
            return submit(client, "analytics", {"filters": {"areas": ["Cebu"]}}).json()["task_id"]
        finally:
            connections.close_all()

    with table_lock(), ThreadPoolExecutor(max_workers=8) as pool:
        task_ids = set(pool.map(one_submit, range(8)))

    # Whether the losers saw the winner at once or lost the insert race on the partial
    # unique index, they all join the one job.
    assert len(task_ids) == 1
    assert Job.objects.filter(kind="analytics").count() == 1
    wait_for_state(task_ids.pop(), JobState.SUCCESS)
