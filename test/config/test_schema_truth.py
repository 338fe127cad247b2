"""The schema says what the API refuses: each rule it documents beyond drf-spectacular's own
mapping (contracts/openapi.py, saved_searches/openapi.py, the kind fields) is checked here
against the answer the API gives to a body that breaks it, and to one that keeps it."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import override_settings

from contracts.openapi import NOT_ONLY_WHITESPACE

pytestmark = pytest.mark.django_db

CHIPS = "/api/v1/contracts"
TASKS = "/api/v1/data-processing/tasks"


@pytest.fixture
def schema(alice_client) -> dict[str, Any]:
    return alice_client.get("/api/v1/schema/?format=json").json()


def component(schema: dict[str, Any], name: str) -> dict[str, Any]:
    return schema["components"]["schemas"][name]


def enum_of(schema: dict[str, Any], field: dict[str, Any]) -> list[str]:
    """A field's choices, inline or in the component drf-spectacular moved them to."""
    for part in (field, *field.get("allOf", ())):
        if "$ref" in part:
            return component(schema, part["$ref"].rsplit("/", 1)[-1])["enum"]
        if "enum" in part:
            return part["enum"]
    raise AssertionError(f"no choices in {field}")


def test_strict_bodies_say_they_take_no_other_field_and_the_api_refuses_one(schema, alice_client):
    for name in (
        "ChipSearchRequest",
        "Filters",
        "ValueRange",
        "EntityTableRequest",
        "ValueDistributionRequest",
    ):
        assert component(schema, name)["additionalProperties"] is False, name

    answer = alice_client.post(f"{CHIPS}/chip-search/", {"filters": {}, "extra": 1}, format="json")
    assert answer.status_code == 400 and answer.json()["errors"] == {"extra": ["Unknown field."]}


def test_chip_names_say_they_need_a_character_that_is_not_whitespace(schema, alice_client):
    item = component(schema, "Filters")["properties"]["keywords"]["items"]
    assert (item["minLength"], item["pattern"], item["maxLength"]) == (1, NOT_ONLY_WHITESPACE, 200)
    # Whitespace as Python strips it, which JSON Schema's own \s is not.
    assert not any(re.search(item["pattern"], chr(code)) for code in range(0x110000) if chr(code).isspace())
    assert re.search(item["pattern"], "\ufeff") and re.search(item["pattern"], " a ")

    for blank in ("", "  ", "\x1c\x85"):
        answer = alice_client.post(f"{CHIPS}/chip-search/", {"filters": {"keywords": [blank]}}, format="json")
        assert answer.status_code == 400 and "filters.keywords.0" in answer.json()["errors"]
    kept = alice_client.post(f"{CHIPS}/chip-search/", {"filters": {"keywords": [" road "]}}, format="json")
    assert kept.status_code == 200


def test_an_amount_is_text_or_a_number_as_the_api_takes_it(schema, alice_client):
    amount = component(schema, "ValueRange")["properties"]["min"]
    text, number = amount["oneOf"]
    assert amount["nullable"] and (text["type"], number["type"]) == ("string", "number")

    def answer(value):
        body = {"filters": {"value_range": {"min": value}}}
        return alice_client.post(f"{CHIPS}/chip-search/", body, format="json").status_code

    for value in (1000000, 1000000.01, 0.0, 0.5, "1000000.50", " 2.5 ", ".5", ""):
        if isinstance(value, str):
            assert re.search(text["pattern"], value), value
        else:
            assert number["minimum"] <= value <= number["maximum"], value
        assert answer(value) == 200, value
    for value in ("1.005", "12345678901234567", "-1", "abc"):
        assert not re.search(text["pattern"], value), value
        assert answer(value) == 400, value
    for value in (-0.5, 10**16):
        assert not number["minimum"] <= value <= number["maximum"], value
        assert answer(value) == 400, value
    assert answer(True) == 400  # not a number to JSON Schema, nor here
    # What the schema cannot say of a binary number: more decimal places than a centavo's.
    assert answer(1.005) == 400


def test_a_decimal_that_may_not_be_null_is_never_blank_text(schema, alice_client):
    band = component(schema, "ValueDistributionRequest")["properties"]["band_percent"]
    text, number = band["oneOf"]
    assert (number["type"], number["minimum"], number["maximum"]) == ("number", 0.01, 25)
    for refused in ("", " ", "-", "-1", "1.005"):
        assert not re.search(text["pattern"], refused), refused
        body = {"band_percent": refused}
        assert alice_client.post(f"{CHIPS}/chip-value-distribution/", body, format="json").status_code == 400
    for kept in ("2.5", " 10 ", 3, 0.01, 2.5):
        assert not isinstance(kept, str) or re.search(text["pattern"], kept)
        body = {"band_percent": kept}
        assert alice_client.post(f"{CHIPS}/chip-value-distribution/", body, format="json").status_code == 200


def test_a_year_is_documented_within_the_years_the_api_takes(schema, alice_client):
    shapes = component(schema, "Filters")["properties"]["time_ranges"]["items"]["oneOf"]
    text = shapes[0]
    yearly = next(s for s in shapes if s.get("properties", {}).get("type") == {"enum": ["yearly"]})
    year_number, year_text = yearly["properties"]["year"]["oneOf"]
    assert (year_number["minimum"], year_number["maximum"]) == (1990, 2100)
    for refused in ("0000", "1989", "2101", "20233"):
        assert not re.search(text["pattern"], refused) and not re.search(year_text["pattern"], refused)
        for time_range in (refused, {"type": "yearly", "year": refused}):
            body = {"filters": {"time_ranges": [time_range]}}
            assert alice_client.post(f"{CHIPS}/chip-search/", body, format="json").status_code == 400
    for kept in ("1990", " 2023 ", "2100"):
        assert re.search(text["pattern"], kept) and re.search(year_text["pattern"], kept)
        body = {"filters": {"time_ranges": [kept, {"type": "quarterly", "year": kept, "quarter": "2"}]}}
        assert alice_client.post(f"{CHIPS}/chip-search/", body, format="json").status_code == 200


def test_the_idempotency_key_header_is_documented_with_its_bounds(schema, alice_client):
    (header,) = [p for p in schema["paths"][f"{TASKS}/search/"]["post"]["parameters"] if p["in"] == "header"]
    assert header["name"] == "Idempotency-Key"
    assert (header["schema"]["minLength"], header["schema"]["maxLength"]) == (1, 200)

    too_long = alice_client.post(
        f"{TASKS}/search/", {"filters": {}}, format="json", HTTP_IDEMPOTENCY_KEY="k" * 201
    )
    assert too_long.status_code == 400 and "Idempotency-Key" in too_long.json()["errors"]


def test_the_job_list_names_the_kinds_it_filters_by(schema, alice_client):
    (kind,) = [p for p in schema["paths"][f"{TASKS}/"]["get"]["parameters"] if p["name"] == "kind"]
    kinds = enum_of(schema, kind["schema"])
    assert {"search", "analytics", "export", "entity_table"} <= set(kinds)

    assert alice_client.get(f"{TASKS}/", {"kind": "search"}).status_code == 200
    refused = alice_client.get(f"{TASKS}/", {"kind": "nonsense"})
    assert refused.status_code == 400
    assert refused.json()["errors"] == {"kind": ['"nonsense" is not a job kind; see GET kinds/.']}


@override_settings(SAVED_SEARCH_MIN_INTERVAL_SECONDS=600)
def test_a_saved_search_body_documents_the_checks_its_serializer_makes(alice_client):
    schema = alice_client.get("/api/v1/schema/?format=json").json()  # under the setting above
    body = component(schema, "SavedSearchWrite")
    fields = body["properties"]
    assert body["additionalProperties"] is False
    assert fields["request"]["type"] == "object"
    assert (fields["name"]["minLength"], fields["name"]["pattern"]) == (1, NOT_ONLY_WHITESPACE)
    assert fields["every_seconds"]["minimum"] == 600
    assert "search" in enum_of(schema, fields["kind"])

    body = {"name": "  ", "kind": "search", "request": None, "every_seconds": 599}
    answer = alice_client.post("/api/v1/saved-searches/", body, format="json")
    assert answer.status_code == 400
    assert {"name", "request", "every_seconds"} <= set(answer.json()["errors"])


def test_a_saved_search_name_taken_is_a_documented_409_on_create_and_on_rename(schema, alice_client):
    operations = schema["paths"]["/api/v1/saved-searches/{saved_search_id}/"]
    assert "409" in schema["paths"]["/api/v1/saved-searches/"]["post"]["responses"]
    assert "409" in operations["patch"]["responses"]

    body = {"kind": "search", "request": {"filters": {}}, "every_seconds": 3600}
    first = alice_client.post("/api/v1/saved-searches/", {**body, "name": "Roads"}, format="json")
    second = alice_client.post("/api/v1/saved-searches/", {**body, "name": "Bridges"}, format="json")
    assert (first.status_code, second.status_code) == (201, 201)
    renamed = alice_client.patch(
        f"/api/v1/saved-searches/{second.json()['id']}/", {"name": "Roads"}, format="json"
    )
    assert renamed.status_code == 409 and renamed.json()["code"] == "saved_search_name_taken"


def test_a_kinds_submit_url_in_a_jobs_place_is_a_documented_405(schema, alice_client):
    # A client that reads a kind's submit_url for a job's path (as schemathesis's stateful
    # phase did) reaches the submit endpoint, not a job.
    job = schema["paths"][f"{TASKS}/{{task_id}}/"]
    submit_url = next(k["submit_url"] for k in alice_client.get("/api/v1/data-processing/kinds/").json())
    for method in ("get", "delete"):
        assert "405" in job[method]["responses"], method
        answer = getattr(alice_client, method)(submit_url)
        assert answer.status_code == 405 and "POST" in answer["Allow"], method
        assert answer.json()["code"] == "method_not_allowed"


def test_each_chip_endpoint_documents_its_async_mode_switch_as_the_api_takes_it(schema, alice_client):
    submit = schema["paths"][f"{TASKS}/search/"]["post"]
    chips = {path: methods["post"] for path, methods in schema["paths"].items() if "/chip-" in path}
    assert len(chips) >= 10
    for path, chip in chips.items():
        body = component(
            schema, chip["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/")[-1]
        )
        assert body["additionalProperties"] is False, path
        assert body["properties"]["async_mode"]["type"] == "boolean", path
        assert {"202", "422", "503"} <= set(chip["responses"]), path
        assert "Idempotency-Key" in [parameter["name"] for parameter in chip["parameters"]], path
    chip = chips[f"{CHIPS}/chip-search/"]
    assert chip["responses"]["202"] == submit["responses"]["202"]
    assert "async_mode" not in component(schema, "ChipSearchRequest")["properties"]  # the submit's own body

    queued = alice_client.post(f"{CHIPS}/chip-search/", {"filters": {}, "async_mode": True}, format="json")
    refused = alice_client.post(f"{TASKS}/search/", {"filters": {}, "async_mode": True}, format="json")
    assert queued.status_code == 202 and set(component(schema, "SubmitQueued")["required"]) <= set(
        queued.json()
    )
    assert refused.status_code == 400 and "async_mode" in refused.json()["errors"]


def test_operations_are_described_for_the_api_not_by_inherited_code_docstrings(schema):
    """A view's base class or mixin docstring says how the code works; it is not an operation's."""
    operations = [operation for methods in schema["paths"].values() for operation in methods.values()]
    described = [operation["description"] for operation in operations if operation.get("description")]

    assert described and not [text for text in described if "``" in text]
    status = schema["paths"][f"{TASKS}/status/"]["get"]
    assert "native async view" not in status.get("description", "")


def test_a_submits_answer_links_the_operations_that_take_its_ids_and_they_do(schema, alice_client):
    by_id = {
        operation["operationId"]: (path, method)
        for path, methods in schema["paths"].items()
        for method, operation in methods.items()
    }
    links = schema["paths"][f"{TASKS}/search/"]["post"]["responses"]["202"]["links"]
    assert set(links) == {"status", "result", "cancel"}
    assert schema["paths"][f"{CHIPS}/chip-search/"]["post"]["responses"]["202"]["links"] == links

    answer = alice_client.post(
        f"{TASKS}/search/", {"filters": {"keywords": ["linked"]}}, format="json"
    ).json()
    for name, statuses in (("status", {200}), ("result", {200, 202}), ("cancel", {200, 409})):
        path, method = by_id[links[name]["operationId"]]
        (parameter, expression), *_ = links[name]["parameters"].items()
        value = answer[expression.rsplit("/", 1)[-1]]
        if f"{{{parameter}}}" in path:
            response = getattr(alice_client, method)(path.replace(f"{{{parameter}}}", value))
        else:
            response = getattr(alice_client, method)(path, {parameter: value})
        assert response.status_code in statuses, (name, response.json())
