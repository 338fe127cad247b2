"""Bad input on every chip endpoint: a 400 in the one error shape naming each bad field."""

from __future__ import annotations

import pytest
from django.urls import reverse

from contracts.serializers import MAX_KEYWORD_LENGTH, MAX_NAME_LENGTH

SEARCH = reverse("chip-search")
AGGREGATES = reverse("chip-aggregates")
TABLE = reverse("chip-aggregates-paginated")
OPTIONS = reverse("filter-options")

LONG_LIST = ["x"] * 51
LONG_NAME = "x" * (MAX_NAME_LENGTH + 1)
LONG_KEYWORD = "x" * (MAX_KEYWORD_LENGTH + 1)

# (filters, the error path expected) — rejected by every endpoint that takes filters.
BAD_FILTERS = [
    ({"contractor": ["ABC"]}, "filters.contractor"),
    ({"value_range": {"min": 1, "median": 2}}, "filters.value_range.median"),
    (
        {"time_ranges": [{"start": "2023-01-01", "end": "2023-12-31", "tz": "UTC"}]},
        "filters.time_ranges.0.tz",
    ),
    ({"contractors": "ABC Corp"}, "filters.contractors"),
    ({"contractors": [42]}, "filters.contractors.0"),
    ({"contractors": [None]}, "filters.contractors.0"),
    ({"contractors": [["nested"]]}, "filters.contractors.0"),
    ({"keywords": ["road", ""]}, "filters.keywords.1"),
    ({"keywords": ["   "]}, "filters.keywords.0"),
    ({"areas": LONG_LIST}, "filters.areas"),
    ({"time_ranges": ["2023"] * 51}, "filters.time_ranges"),
    ({"organizations": [LONG_NAME]}, "filters.organizations.0"),
    ({"keywords": ["road", LONG_KEYWORD]}, "filters.keywords.1"),
    ({"page": 0}, "filters.page"),
    ({"page": -1}, "filters.page"),
    ({"page": "two"}, "filters.page"),
    ({"page": 1.5}, "filters.page"),
    ({"page": True}, "filters.page"),
    ({"page": 10**30}, "filters.page"),
    ({"page_size": 0}, "filters.page_size"),
    ({"page_size": 101}, "filters.page_size"),
    ({"time_ranges": [{"start": "2023-12-31", "end": "2023-01-01"}]}, "filters.time_ranges.0"),
    (
        {"time_ranges": [{"type": "custom", "startDate": "2024-02-01", "endDate": "2024-01-01"}]},
        "filters.time_ranges.0",
    ),
    ({"time_ranges": [{"start": "2023-02-30", "end": "2023-12-31"}]}, "filters.time_ranges.0.start"),
    ({"time_ranges": [{"start": "2023-01-01"}]}, "filters.time_ranges.0.end"),
    ({"time_ranges": [{"start": 20230101, "end": "2023-12-31"}]}, "filters.time_ranges.0.start"),
    ({"time_ranges": ["1989"]}, "filters.time_ranges.0"),
    ({"time_ranges": [2101]}, "filters.time_ranges.0"),
    ({"time_ranges": ["twenty"]}, "filters.time_ranges.0"),
    ({"time_ranges": [True]}, "filters.time_ranges.0"),
    ({"time_ranges": [None]}, "filters.time_ranges.0"),
    ({"time_ranges": ["2023", [2023]]}, "filters.time_ranges.1"),
    ({"time_ranges": [{"type": "yearly", "year": 1900}]}, "filters.time_ranges.0.year"),
    ({"time_ranges": [{"type": "yearly"}]}, "filters.time_ranges.0.year"),
    ({"time_ranges": [{"type": "quarterly", "year": 2023, "quarter": 5}]}, "filters.time_ranges.0.quarter"),
    ({"time_ranges": [{"type": "quarterly", "year": 2023, "quarter": 0}]}, "filters.time_ranges.0.quarter"),
    ({"time_ranges": [{"type": "quarterly", "year": 2023}]}, "filters.time_ranges.0.quarter"),
    ({"time_ranges": [{"type": "quarterly", "year": 2023, "quarter": 2.0}]}, "filters.time_ranges.0.quarter"),
    (
        {"time_ranges": [{"type": "quarterly", "year": 2023, "quarter": True}]},
        "filters.time_ranges.0.quarter",
    ),
    ({"time_ranges": [{"type": "monthly", "year": 2023}]}, "filters.time_ranges.0.type"),
    (
        {"time_ranges": [{"type": "custom", "start": "2023-01-01", "end": "2023-02-01"}]},
        "filters.time_ranges.0.start",
    ),
    ({"time_ranges": "2023"}, "filters.time_ranges"),
    ({"value_range": {"min": 10, "max": 5}}, "filters.value_range.min"),
    ({"value_range": {"min": -1}}, "filters.value_range.min"),
    ({"value_range": {"max": "lots"}}, "filters.value_range.max"),
    ({"value_range": {"max": "1e30"}}, "filters.value_range.max"),
    ({"value_range": [1, 2]}, "filters.value_range"),
]


def assert_rejected(response, path):
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["status"] == "error"
    assert body["code"] == "invalid_input"
    assert path in body["errors"], body["errors"]
    assert all(isinstance(m, str) for m in body["errors"][path])


@pytest.mark.parametrize(("filters", "path"), BAD_FILTERS)
@pytest.mark.parametrize(
    ("url", "extra"),
    [(SEARCH, {}), (AGGREGATES, {}), (TABLE, {"entity_type": "area"})],
    ids=["search", "aggregates", "table"],
)
def test_it_rejects_bad_filters(alice_client, db, url, extra, filters, path):
    assert_rejected(alice_client.post(url, {"filters": filters, **extra}, format="json"), path)


@pytest.mark.parametrize(
    ("url", "body", "path"),
    [
        (SEARCH, {"filters": {}, "async": True}, "async"),
        (SEARCH, {"filters": {}, "page": 2}, "page"),  # search pages inside filters
        (SEARCH, {"filters": {}, "ordering": "title"}, "ordering"),
        (SEARCH, {"filters": {}, "ordering": "--amount"}, "ordering"),
        (SEARCH, {"filters": None}, "filters"),
        (SEARCH, {"filters": ["ABC"]}, "filters"),
        (SEARCH, ["filters"], "non_field_errors"),
        (SEARCH, "filters", "non_field_errors"),
        (AGGREGATES, {"filters": {}, "top_n": 0}, "top_n"),
        (AGGREGATES, {"filters": {}, "top_n": 51}, "top_n"),
        (AGGREGATES, {"filters": {}, "top_n": "ten"}, "top_n"),
        (AGGREGATES, {"filters": {}, "ordering": "-amount"}, "ordering"),
        (TABLE, {"filters": {}}, "entity_type"),
        (TABLE, {"filters": {}, "entity_type": "contractors"}, "entity_type"),
        (TABLE, {"filters": {}, "entity_type": "area", "page": 0}, "page"),
        (TABLE, {"filters": {}, "entity_type": "area", "page_size": 101}, "page_size"),
        (TABLE, {"filters": {}, "entity_type": "area", "ordering": "amount"}, "ordering"),
        (TABLE, {"filters": {}, "entity_type": "area", "top_n": 3}, "top_n"),
    ],
)
def test_it_rejects_bad_request_fields(alice_client, db, url, body, path):
    assert_rejected(alice_client.post(url, body, format="json"), path)


def test_it_names_every_bad_field_at_once(alice_client, db):
    response = alice_client.post(
        SEARCH,
        {
            "filters": {"page_size": 500, "contractors": ["ok", ""], "time_ranges": ["2023", "nope"]},
            "ordering": "nope",
        },
        format="json",
    )
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {
        "filters.page_size",
        "filters.contractors.1",
        "filters.time_ranges.1",
        "ordering",
    }


@pytest.mark.parametrize(
    ("params", "path"),
    [
        ({}, "field"),
        ({"field": "contractor"}, "field"),
        ({"field": "contractors", "q": "x" * 101}, "q"),
        ({"field": "contractors", "limit": 0}, "limit"),
        ({"field": "contractors", "limit": 51}, "limit"),
        ({"field": "contractors", "limit": "many"}, "limit"),
        ({"field": "contractors", "query": "abc"}, "query"),
    ],
)
def test_filter_options_rejects_bad_query(alice_client, db, params, path):
    assert_rejected(alice_client.get(OPTIONS, params), path)


@pytest.mark.parametrize("url", [SEARCH, AGGREGATES, TABLE])
@pytest.mark.parametrize("payload", ['{"filters": {', "not json", '{"filters": {}} trailing', "[1,"])
def test_malformed_json_is_a_400(alice_client, db, url, payload):
    response = alice_client.post(url, payload, content_type="application/json")
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["status"] == "error"
    assert body["code"] in {"parse_error", "invalid_input"}


@pytest.mark.parametrize("url", [SEARCH, AGGREGATES, TABLE])
def test_form_posts_are_refused(alice_client, db, url):
    response = alice_client.post(url, {"filters": "x"})
    assert response.status_code == 415
    assert response.json()["status"] == "error"
