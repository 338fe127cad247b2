"""The job-kind registry: kinds are declared once, and a new one runs end to end with
nothing but its declaration and its selector (test/support/sample_job_kind.py)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from job_helpers import wait_until
from sample_job_kind import CONTRACT_COUNT, QUEUE

from data_processing.models import Job

TASKS = "/api/v1/data-processing/tasks"
SUPPORT = Path(__file__).resolve().parent.parent / "support"


def test_the_kinds_endpoint_lists_every_kind_with_its_label_and_submit_url(alice_client):
    kinds = {entry["kind"]: entry for entry in alice_client.get("/api/v1/data-processing/kinds/").json()}
    assert list(kinds) == [
        "search",
        "analytics",
        "entity_table",
        "export",
        "value_distribution",
        "benford",
        "rounding",
        "value_treemap",
        "related_entities",
        "related_contracts",
        "entity_table_export",
    ]
    assert kinds["entity_table"] == {
        "kind": "entity_table",
        "label": "Entity table",
        "submit_url": f"{TASKS}/entity-table/",
        "aliases": ["analytics_table"],
    }
    assert kinds["export"]["submit_url"] == f"{TASKS}/export/"


def test_the_dashboard_page_carries_the_kinds_from_the_registry(alice, client):
    client.force_login(alice)
    page = client.get("/").content.decode()
    assert 'id="job-kinds"' in page
    assert f"{TASKS}/entity-table/" in page
    assert "Entity table" in page


def test_the_old_entity_table_url_and_kind_name_still_work(alice_client, db):
    body = {"filters": {}, "entity_type": "area"}
    new = alice_client.post(f"{TASKS}/entity-table/", body, format="json")
    old = alice_client.post(f"{TASKS}/analytics-paginated/", body, format="json")
    assert new.status_code == old.status_code == 202
    # The same request under either URL is one job.
    assert old.json()["task_id"] == new.json()["task_id"]
    assert new.json()["cache_key"].startswith("entity_table:")
    assert Job.objects.get().kind == "entity_table"
    for name in ("entity_table", "analytics_table"):
        listed = alice_client.get(f"{TASKS}/", {"kind": name}).json()
        assert [job["task_id"] for job in listed["results"]] == [new.json()["task_id"]]
    unknown = alice_client.get(f"{TASKS}/", {"kind": "planet"})
    assert unknown.status_code == 400
    assert list(unknown.json()["errors"]) == ["kind"]


@pytest.mark.integration
def test_a_kind_declared_only_in_a_test_module_runs_end_to_end(
    alice, make_contract, live_db, worker_factory, asgi_server_factory
):
    make_contract(title="Road widening, phase 1")
    make_contract(title="Road widening, phase 2")
    make_contract(title="Office paper")
    extra_env = {
        "TEST_EXTRA_JOB_KINDS": "sample_job_kind.CONTRACT_COUNT",
        "PYTHONPATH": str(SUPPORT),
    }
    # Only a worker on the kind's own queue can run it: the queue comes from the declaration.
    worker_factory("sample-kind-worker", queues=QUEUE, concurrency=1, extra_env=extra_env)
    address = asgi_server_factory("asgi-sample-kind", extra_env=extra_env)
    with httpx.Client(
        base_url=f"http://{address}",
        headers={"Authorization": f"Token {alice.auth_token.key}"},
        timeout=10,
    ) as http:
        kinds = [entry["kind"] for entry in http.get("/api/v1/data-processing/kinds/").json()]
        assert kinds[-1] == CONTRACT_COUNT.name

        assert http.post(f"{TASKS}/{CONTRACT_COUNT.slug}/", json={}).status_code == 400
        submitted = http.post(f"{TASKS}/{CONTRACT_COUNT.slug}/", json={"title_contains": "road"})
        assert submitted.status_code == 202, submitted.text
        task_id = submitted.json()["task_id"]
        assert submitted.json()["cache_key"].startswith("contract_count:")

        def finished() -> dict | None:
            status = http.get(f"{TASKS}/status/", params={"task_id": task_id}).json()
            return status if status["state"] in ("SUCCESS", "FAILURE", "REVOKED") else None

        status = wait_until(finished, what="the sample kind's job to finish")
        assert status["state"] == "SUCCESS", status
        assert status["kind"] == "contract_count"
        assert status["attempts"] == 1

        result = http.get(status["result_url"])
        assert result.status_code == 200
        assert result.json()["data"] == {"title_contains": "road", "count": 2}

        schema = http.get("/api/v1/schema/").text
        assert f"{TASKS}/contract-count/:" in schema
        assert "ContractCountRequest" in schema


def test_the_schema_documents_each_kinds_request_and_the_real_query_parameters(alice_client):
    schema = alice_client.get("/api/v1/schema/", {"format": "json"}).json()
    paths = schema["paths"]

    def request_ref(path: str) -> str:
        return paths[path]["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]

    assert request_ref(f"{TASKS}/search/").endswith("/ChipSearchRequest")
    assert request_ref(f"{TASKS}/entity-table/").endswith("/EntityTableRequest")
    assert request_ref(f"{TASKS}/export/").endswith("/ExportRequest")
    assert paths[f"{TASKS}/analytics-paginated/"]["post"]["deprecated"] is True
    listed = {parameter["name"] for parameter in paths[f"{TASKS}/"]["get"]["parameters"]}
    assert listed == {"state", "kind", "page", "page_size"}
    result = paths[f"{TASKS}/result/"]["get"]["responses"]
    assert {"200", "202", "404", "409", "410"} <= set(result)  # and the generic 400 and 401
    download = paths[f"{TASKS}/{{task_id}}/download/"]["get"]["responses"]
    assert "409" in download


@pytest.mark.parametrize(
    "clash",
    [
        {"name": "search"},
        {"name_aliases": ("analytics_table",)},
        {"slug": "export"},
        {"slug_aliases": ("analytics-paginated",)},
        {"slug": "status"},
    ],
)
def test_a_kind_that_clashes_with_a_registered_name_or_route_is_refused(clash):
    from dataclasses import replace

    from data_processing.registry import job_kinds, register

    before = job_kinds()
    with pytest.raises(ValueError, match="clashes"):
        register(replace(CONTRACT_COUNT, **clash))
    assert job_kinds() == before
