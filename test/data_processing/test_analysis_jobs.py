"""The red-flag, drill-down and entity-table export job kinds, run by a real worker: each
answers what its synchronous chip endpoint answers, only to its owner, and refuses bad input
at submit."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse
from job_helpers import wait_for_state

from data_processing.models import JobState

TASKS = "/api/v1/data-processing/tasks"

# (job slug, chip endpoint name, body): each pair must give one answer.
KINDS = [
    (
        "value-distribution",
        "chip-value-distribution",
        {"filters": {"areas": ["Cebu"]}, "bins": 20, "scale": "log"},
    ),
    ("benford", "chip-benford", {"filters": {"keywords": ["road"]}}),
    ("rounding", "chip-rounding", {"filters": {"time_ranges": ["2023"]}}),
    ("value-treemap", "chip-value-treemap", {"filters": {}, "categories": 1, "contractors": 2}),
    (
        "related-entities",
        "chip-related-entities",
        {"filters": {}, "dimension": "contractor", "name": "acme builders", "target": "area"},
    ),
    (
        "related-contracts",
        "chip-related-contracts",
        {
            "filters": {"page_size": 5},
            "dimension": "contractor",
            "name": "ACME BUILDERS",
            "target": "area",
            "target_name": "Cebu",
            "page": 2,
        },
    ),
]


def run_job(client, slug: str, body) -> dict:
    answer = client.post(f"{TASKS}/{slug}/", body, format="json")
    assert answer.status_code in (200, 202), answer.content
    answer = answer.json()
    if answer["status"] != "cached":
        wait_for_state(answer["task_id"], JobState.SUCCESS)
    return answer


pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("celery_worker_process")]


@pytest.mark.parametrize(("slug", "chip", "body"), KINDS)
def test_each_job_answers_like_its_chip_endpoint_and_only_to_its_owner(
    alice_client, bob_client, sample_contracts, slug, chip, body
):
    answer = run_job(alice_client, slug, body)
    result = alice_client.get(f"{TASKS}/result/", {"cache_key": answer["cache_key"]})
    assert result.status_code == 200
    direct = alice_client.post(reverse(chip), body, format="json")
    assert result.json()["data"] == direct.json()

    assert bob_client.get(f"{TASKS}/status/", {"task_id": answer["task_id"]}).status_code == 404
    assert bob_client.get(f"{TASKS}/result/", {"cache_key": answer["cache_key"]}).status_code == 404


def test_async_mode_turns_a_chip_request_into_a_job(alice_client, sample_contracts):
    body = {"filters": {"areas": ["Metro Manila"]}, "bins": 7}
    queued = alice_client.post(
        reverse("chip-value-distribution"), {**body, "async_mode": True}, format="json"
    )
    assert queued.status_code in (200, 202)
    answer = queued.json()
    assert answer["cache_key"].startswith("value_distribution:")
    if answer["status"] != "cached":
        wait_for_state(answer["task_id"], JobState.SUCCESS)
    data = alice_client.get(f"{TASKS}/result/", {"cache_key": answer["cache_key"]}).json()["data"]
    assert data["count"] == 120
    assert data["bin_count"] == 7


def test_the_entity_table_export_job_writes_the_streamed_csv(alice_client, bob_client, sample_contracts):
    body = {"filters": {"time_ranges": ["2023"]}, "entity_type": "contractor", "ordering": "name"}
    answer = run_job(alice_client, "entity-table-export", body)
    job = alice_client.get(f"{TASKS}/{answer['task_id']}/").json()
    assert job["kind"] == "entity_table_export"
    data = alice_client.get(f"{TASKS}/result/", {"cache_key": answer["cache_key"]}).json()["data"]
    assert data["row_count"] == 3

    download = alice_client.get(data["download_url"])
    assert download.status_code == 200
    saved = b"".join(download.streaming_content).decode()
    streamed = alice_client.post(reverse("chip-entity-table-export"), body, format="json")
    assert saved == b"".join(streamed.streaming_content).decode()
    rows = list(csv.reader(io.StringIO(saved)))
    assert [row[0] for row in rows] == ["Contractor", "ACME BUILDERS", "BRIGHT SUPPLY", "CEBU TRADING"]
    assert bob_client.get(data["download_url"]).status_code == 404


@pytest.mark.parametrize(
    ("slug", "body", "field"),
    [
        ("value-distribution", {"bins": 5000}, "bins"),
        ("benford", {"filters": {"areas": "Cebu"}}, "filters.areas"),
        ("related-entities", {"dimension": "area", "name": "Cebu", "target": "area"}, "target"),
        ("related-contracts", {"dimension": "area", "name": "Cebu", "target": "contractor"}, "target_name"),
        ("entity-table-export", {"entity_type": "nation"}, "entity_type"),
        ("value-treemap", {"contractors": 99}, "contractors"),
    ],
)
def test_bad_input_is_refused_at_submit(alice_client, db, slug, body, field):
    response = alice_client.post(f"{TASKS}/{slug}/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]
