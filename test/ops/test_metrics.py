"""/metrics: refused without the token, and counting what really ran in a worker process
and the error answers of every path."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import pytest
from django.test import Client
from job_helpers import wait_for_state, wait_until
from prometheus_client.parser import text_string_to_metric_families
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from data_processing.models import JobState
from saved_searches import services

TOKEN = "test-metrics-token"


def scrape(client: Client) -> dict[tuple[str, tuple], float]:
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "authorization", [None, "Bearer wrong-token", f"Token {TOKEN}", f"Basic {TOKEN}", "Bearer"]
)
def test_it_refuses_callers_without_the_token(client, authorization):
    headers = {"HTTP_AUTHORIZATION": authorization} if authorization else {}

    response = client.get("/metrics", **headers)

    assert response.status_code == 401
    assert response.json()["status"] == "error"
    assert "philgeps" not in response.content.decode()


@pytest.mark.django_db
def test_it_does_not_exist_without_a_token_configured(client, settings):
    settings.METRICS_TOKEN = ""

    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 404


@pytest.mark.integration
@pytest.mark.usefixtures("celery_worker_process")
def test_it_counts_a_job_that_ran_in_a_worker(client, alice_client, live_db, make_contract):
    make_contract(reference_id="M-1", title="Metrics road", amount=1234)
    before = scrape(client)
    body = {"filters": {"keywords": ["metrics road"]}}

    task_id = alice_client.post("/api/v1/data-processing/tasks/search/", body, format="json").json()[
        "task_id"
    ]
    wait_for_state(task_id, JobState.SUCCESS)
    repeat = alice_client.post("/api/v1/data-processing/tasks/search/", body, format="json")
    assert repeat.status_code == 200  # answered from the cache
    after = scrape(client)

    def change(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert change("philgeps_jobs_submitted_total", kind="search") == 2
    # Counted by the worker's child process, read here from its multiprocess file.
    assert change("philgeps_jobs_finished_total", kind="search") == 1
    assert change("philgeps_job_duration_seconds_count", kind="search") == 1
    assert change("philgeps_job_queue_wait_seconds_count", kind="search") == 1
    assert change("philgeps_jobs_failed_total", kind="search") == 0
    assert change("philgeps_result_cache_requests_total", result="hit") >= 1
    assert change("philgeps_result_cache_requests_total", result="miss") >= 1
    assert ("philgeps_jobs_active", (("kind", "search"), ("state", "PENDING"))) not in after


@pytest.mark.integration
def test_it_counts_open_websockets_in_the_server_process(client, alice, asgi_server, live_db):
    def open_sockets() -> float:
        return value(scrape(client), "philgeps_websocket_connections")

    baseline = open_sockets()
    with connect(f"ws://{asgi_server}/ws/tasks/status/?token={alice.auth_token.key}", open_timeout=10):
        wait_until(lambda: open_sockets() == baseline + 1, timeout=10, what="the socket to be counted")
    wait_until(lambda: open_sockets() == baseline, timeout=10, what="the closed socket to be uncounted")


@pytest.mark.django_db
def test_it_counts_saved_search_runs_by_trigger(client, alice):
    saved = services.saved_search_create(owner=alice, name="All", kind="search", request={"filters": {}})
    before = scrape(client)

    services.saved_search_run(saved_search_id=saved.id, trigger="manual")
    after = scrape(client)

    name = "philgeps_saved_search_runs_total"
    assert value(after, name, trigger="manual") - value(before, name, trigger="manual") == 1


@pytest.mark.django_db
def test_an_empty_file_left_by_a_process_killed_as_it_started_fails_no_scrape(client, alice, settings):
    """A process creates its metrics file and sizes it a moment later: one SIGKILLed in between
    leaves the file empty for good, and every scrape after must still answer, in full."""
    saved = services.saved_search_create(owner=alice, name="All", kind="search", request={"filters": {}})
    services.saved_search_run(saved_search_id=saved.id, trigger="manual")
    before = scrape(client)
    killed = Path(settings.METRICS_DIRECTORY) / "a-host-whose-process-was-killed"
    killed.mkdir(exist_ok=True)  # a run killed before its clean-up left it
    try:
        (killed / "counter_4194304.db").touch()
        after = scrape(client)
    finally:
        shutil.rmtree(killed)

    assert value(after, "philgeps_saved_search_runs_total", trigger="manual") >= 1
    assert after.keys() >= before.keys()


@pytest.mark.integration
def test_it_counts_error_answers_by_code_from_every_path(
    client, alice, alice_client, anon_client, asgi_server_factory, live_db
):
    server = asgi_server_factory("asgi-metrics-errors", extra_env={"WEBSOCKET_MAX_PER_USER": "1"})
    name = "philgeps_api_errors_total"
    before = scrape(client)

    alice_client.post("/api/v1/data-processing/tasks/search/", {"filters": {"page_size": 0}}, format="json")
    anon_client.get("/api/v1/data-processing/tasks/")
    alice_client.get("/api/v1/no-such-endpoint/")  # Django's 404 view, outside DRF
    alice_client.get("/api/v1/data-processing/tasks/status/", {"task_id": str(uuid.uuid4())})  # async view
    token = alice.auth_token.key
    url = f"ws://{server}/ws/tasks/status/?token={token}"
    with connect(url, open_timeout=10), pytest.raises(InvalidStatus):
        connect(url, open_timeout=10)
    after = scrape(client)

    def change(code: str) -> float:
        return value(after, name, code=code) - value(before, name, code=code)

    assert change("invalid_input") == 1
    assert change("not_authenticated") == 1
    assert change("not_found") == 1
    assert change("job_not_found") == 1
    assert change("too_many_sockets") == 1  # counted in the server process
