"""The job API's contract: who may see what, and a clear 4xx for every kind of bad input."""

from __future__ import annotations

import uuid

import pytest
from job_helpers import wait_for_state

from data_processing.models import JobState

TASKS = "/api/v1/data-processing/tasks"
SUBMIT_KINDS = ("search", "analytics", "entity-table", "analytics-paginated", "export")


def submit(client, kind: str, body):
    return client.post(f"{TASKS}/{kind}/", body, format="json")


@pytest.mark.integration
@pytest.mark.usefixtures("celery_worker_process")
def test_a_user_never_sees_polls_cancels_or_downloads_another_users_job(
    alice_client, bob_client, sample_contracts
):
    export = submit(alice_client, "export", {"filters": {"keywords": ["road"]}}).json()
    wait_for_state(export["task_id"], JobState.SUCCESS)
    download_url = f"{TASKS}/{export['task_id']}/download/"
    assert alice_client.get(download_url).status_code == 200

    assert bob_client.get(f"{TASKS}/status/", {"task_id": export["task_id"]}).status_code == 404
    assert bob_client.get(f"{TASKS}/{export['task_id']}/").status_code == 404
    assert bob_client.get(f"{TASKS}/result/", {"cache_key": export["cache_key"]}).status_code == 404
    assert bob_client.delete(f"{TASKS}/{export['task_id']}/").status_code == 404
    assert bob_client.get(download_url).status_code == 404
    assert bob_client.get(f"{TASKS}/").json()["count"] == 0

    # Bob's identical export is his own job and his own file, not a view of alice's.
    bobs = submit(bob_client, "export", {"filters": {"keywords": ["road"]}}).json()
    assert bobs["task_id"] != export["task_id"]
    assert bobs["cache_key"] != export["cache_key"]


@pytest.mark.parametrize("kind", SUBMIT_KINDS)
def test_every_job_endpoint_requires_authentication(anon_client, db, kind):
    assert submit(anon_client, kind, {"filters": {}}).status_code == 401
    for path in ("/status/?task_id=" + str(uuid.uuid4()), "/result/?cache_key=search:" + "0" * 32, "/"):
        response = anon_client.get(TASKS + path)
        assert response.status_code == 401
        assert response.json()["status"] == "error"


@pytest.mark.parametrize(
    ("kind", "body", "field"),
    [
        ("search", {"filters": {"page_size": 101}}, "filters.page_size"),
        ("search", {"filters": {"contractor": ["x"]}}, "filters.contractor"),
        (
            "search",
            {"filters": {"time_ranges": [{"start": "2024-02-01", "end": "2024-01-01"}]}},
            "filters.time_ranges.0",
        ),
        ("search", {"filters": {}, "ordering": "title"}, "ordering"),
        ("search", {"filters": {}, "async": True}, "async"),
        ("search", ["not", "an", "object"], "non_field_errors"),
        ("analytics", {"filters": {"keywords": ["x" * 201]}}, "filters.keywords.0"),
        ("analytics", {"filters": {"areas": ["a"] * 51}}, "filters.areas"),
        ("analytics-paginated", {"filters": {}, "entity_type": "planet"}, "entity_type"),
        ("analytics-paginated", {"filters": {}}, "entity_type"),
        ("export", {"filters": {"value_range": {"min": 10, "max": 1}}}, "filters.value_range.min"),
        ("export", {"filters": {}, "columns": ["title"]}, "columns"),
    ],
)
def test_bad_input_on_submit_is_a_400_naming_the_field(alice_client, kind, body, field):
    response = submit(alice_client, kind, body)

    assert response.status_code == 400, response.json()
    assert response.json()["status"] == "error"
    assert response.json()["code"] == "invalid_input"
    assert field in response.json()["errors"]


def test_malformed_json_is_a_400(alice_client):
    response = alice_client.post(f"{TASKS}/search/", "{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


def test_a_non_boolean_async_mode_is_a_400(alice_client):
    response = alice_client.post("/api/v1/contracts/chip-search/", {"async_mode": "yes"}, format="json")
    assert response.status_code == 400
    assert "async_mode" in response.json()["errors"]


@pytest.mark.parametrize(
    ("url", "body"),
    [
        (f"{TASKS}/search/", {"filters": {}}),
        ("/api/v1/contracts/chip-search/", {"filters": {}, "async_mode": True}),
        ("/api/v1/contracts/chip-search/", {"filters": {}}),  # documented there, so checked there
    ],
)
def test_a_too_long_idempotency_key_is_a_400(alice_client, url, body):
    response = alice_client.post(url, body, format="json", headers={"Idempotency-Key": "k" * 201})
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["errors"]


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/status/", {}, "task_id"),
        ("/status/", {"task_id": "not-a-uuid"}, "task_id"),
        ("/result/", {}, "cache_key"),
        ("/result/", {"cache_key": "search:../../etc"}, "cache_key"),
        ("/", {"state": "DONE"}, "state"),
        ("/", {"kind": "everything"}, "kind"),
        ("/", {"page_size": "abc"}, "page_size"),
        ("/", {"page_size": 0}, "page_size"),
        ("/", {"page_size": 101}, "page_size"),
        ("/", {"page": "abc"}, "page"),
        ("/", {"page": 0}, "page"),
        # Given but empty: a value like any other, not the parameter left out.
        ("/", {"state": ""}, "state"),
        ("/", {"kind": ""}, "kind"),
        ("/", {"page_size": ""}, "page_size"),
        ("/", {"page": ""}, "page"),
        ("/", {"state": ["SUCCESS", ""]}, "state"),  # the last of repeated values counts
    ],
)
def test_bad_query_parameters_are_a_400_naming_the_parameter(alice_client, path, params, field):
    response = alice_client.get(TASKS + path, params)
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_the_job_list_pages_as_documented(alice_client):
    """A page past the last is a 404; "last" is the last page; the bounds are in the schema."""
    assert alice_client.get(f"{TASKS}/", {"page": 1, "page_size": 100}).status_code == 200
    assert alice_client.get(f"{TASKS}/", {"page": "last"}).status_code == 200
    assert alice_client.get(f"{TASKS}/", {"page": 2}).status_code == 404
    assert alice_client.get(f"{TASKS}/", {"page": "1" + "0" * 30}).status_code == 404

    schema = alice_client.get("/api/v1/schema/", {"format": "json"}).json()
    parameters = schema["paths"]["/api/v1/data-processing/tasks/"]["get"]["parameters"]
    page_size = next(parameter for parameter in parameters if parameter["name"] == "page_size")
    assert page_size["schema"] | {"minimum": 1, "maximum": 100} == page_size["schema"]


@pytest.mark.parametrize("path", ["/status/", "/result/"])
def test_a_poll_answers_other_methods_as_every_endpoint_does(alice_client, anon_client, path):
    """The polls are native async views; OPTIONS and a 405 still come from DRF, as elsewhere."""
    options = alice_client.options(TASKS + path)
    refused = alice_client.post(TASKS + path, {}, format="json")

    assert options.status_code == 200 and options.json()["parses"] == ["application/json"]
    assert refused.status_code == 405 and refused.json()["code"] == "method_not_allowed"
    assert refused["Allow"] == options["Allow"] == "GET, HEAD, OPTIONS"
    assert anon_client.options(TASKS + path).status_code == 401


def test_unknown_ids_and_keys_are_404(alice_client):
    unknown = str(uuid.uuid4())
    assert alice_client.get(f"{TASKS}/status/", {"task_id": unknown}).status_code == 404
    assert alice_client.get(f"{TASKS}/status/", {"task_id": unknown}).json()["code"] == "job_not_found"
    assert alice_client.delete(f"{TASKS}/{unknown}/").status_code == 404
    assert alice_client.get(f"{TASKS}/{unknown}/download/").status_code == 404
    assert alice_client.get(f"{TASKS}/result/", {"cache_key": "search:" + "0" * 32}).status_code == 404


def test_the_openapi_schema_documents_the_job_endpoints(alice_client):
    schema = alice_client.get("/api/v1/schema/").content.decode()
    for path in (
        "search/",
        "analytics/",
        "entity-table/",
        "analytics-paginated/",
        "export/",
        "status/",
        "result/",
        "{task_id}/",
    ):
        assert f"/api/v1/data-processing/tasks/{path}:" in schema
