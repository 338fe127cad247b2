"""The synchronous red-flag, drill-down, export and time-range endpoints: wiring, auth, 400s.

The numbers themselves are checked against Python in test/contracts/selectors; here the
hand-made dataset proves the endpoints pass the chips and options through.
"""

from __future__ import annotations

import csv
import io

import pytest
from django.core.cache import cache
from django.urls import reverse

from contracts.models import DatasetVersion
from contracts.selectors.time_ranges import time_ranges_cache_key

JSON_ENDPOINTS = {
    "chip-value-distribution": {"filters": {}, "bins": 10},
    "chip-benford": {"filters": {}},
    "chip-rounding": {"filters": {}},
    "chip-related-entities": {"filters": {}, "dimension": "contractor", "name": "abc corp", "target": "area"},
    "chip-related-contracts": {
        "filters": {},
        "dimension": "contractor",
        "name": "ABC Corp",
        "target": "organization",
        "target_name": "DPWH",
    },
    "export-estimate": {"filters": {}, "target": "entity_table", "entity_type": "area"},
    "chip-value-treemap": {"filters": {}, "categories": 2, "contractors": 1},
}


def post(client, name, body, status=200):
    response = client.post(reverse(name), body, format="json")
    assert response.status_code == status, response.content
    return response


@pytest.mark.parametrize("name", [*JSON_ENDPOINTS, "chip-entity-table-export"])
def test_anonymous_callers_are_refused(anon_client, chip_dataset, name):
    body = JSON_ENDPOINTS.get(name, {"entity_type": "area"})
    assert post(anon_client, name, body, status=401).json()["code"] == "not_authenticated"


def test_value_distribution_marks_the_thresholds(alice_client, chip_dataset, settings):
    settings.RED_FLAG_THRESHOLDS = ["800000"]
    body = post(
        alice_client, "chip-value-distribution", {"filters": {}, "bins": 5, "band_percent": "25"}
    ).json()
    assert body["count"] == 6
    assert body["bin_count"] == 5
    assert sum(b["count"] for b in body["bins"]) == 6
    marks = {t["amount"]: t for t in body["thresholds"]}
    assert list(marks) == ["800000.00", "1000000.00", "5000000.00", "10000000.00"]
    # 700,000 lies in [600,000, 800,000); 1,000,000 and 5,000,000 are exactly on theirs.
    assert (marks["800000.00"]["source"], marks["800000.00"]["count_just_below"]) == ("configured", 1)
    assert (marks["1000000.00"]["count_at"], marks["1000000.00"]["count_just_below"]) == (1, 0)
    assert marks["5000000.00"]["count_at"] == 1


def test_the_chips_narrow_every_analysis(alice_client, chip_dataset):
    chips = {"contractors": ["ABC Corp"]}
    assert post(alice_client, "chip-value-distribution", {"filters": chips}).json()["count"] == 2
    assert post(alice_client, "chip-benford", {"filters": chips}).json()["sample_size"] == 2
    rounding = post(alice_client, "chip-rounding", {"filters": chips}).json()
    assert rounding["count"] == 2
    assert [lvl["count"] for lvl in rounding["levels"]] == [0, 1, 1, 2, 2]  # 1,000,000 and 50,000


def test_benford_says_when_there_are_too_few(alice_client, chip_dataset):
    body = post(alice_client, "chip-benford", {"filters": {}}).json()
    assert body["enough_data"] is False
    assert body["first_digit"]["conformity_text"] == "Too few contracts to judge."


def test_drilldown_and_its_contracts(alice_client, chip_dataset):
    related = post(
        alice_client,
        "chip-related-entities",
        {"filters": {}, "dimension": "contractor", "name": "abc corp", "target": "area"},
    ).json()
    assert related["results"] == [
        {"name": "Metro Manila", "count": 1, "total_amount": "1000000.00"},
        {"name": "Cebu", "count": 1, "total_amount": "50000.00"},
    ]
    pair = post(alice_client, "chip-related-contracts", JSON_ENDPOINTS["chip-related-contracts"]).json()
    assert [r["reference_id"] for r in pair["results"]] == ["R1"]
    assert pair["pagination"]["total_count"] == 1


def test_the_treemap_adds_up(alice_client, chip_dataset):
    body = post(alice_client, "chip-value-treemap", JSON_ENDPOINTS["chip-value-treemap"]).json()
    assert [(t["name"], t["total_amount"]) for t in body["categories"]] == [
        ("Construction Projects", "6700000.00"),
        ("Textbooks", "50000.00"),
    ]
    assert body["categories"][0]["contractors"] == [
        {"name": "XYZ Trading", "count": 1, "total_amount": "5000000.00"}
    ]
    assert body["categories"][0]["other"] == {"count": 2, "total_amount": "1700000.00"}
    assert body["other_categories"] == {"categories": 1, "count": 1, "total_amount": "12345.67"}
    assert body["without_category"] == {"count": 1, "total_amount": "250000.50"}


def test_the_entity_table_streams_as_csv(alice_client, chip_dataset):
    response = post(
        alice_client, "chip-entity-table-export", {"filters": {}, "entity_type": "area", "ordering": "name"}
    )
    assert response["Content-Type"] == "text/csv"
    assert response["Content-Disposition"].startswith('attachment; filename="philgeps-area-table-')
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [row[:3] for row in rows] == [
        ["Area of delivery", "Contracts", "Total Amount (PHP)"],
        ["Cebu", "2", "5050000.00"],
        ["Metro Manila", "3", "1712345.67"],
    ]


def test_the_estimate_counts_rows(alice_client, chip_dataset):
    body = post(alice_client, "export-estimate", {"filters": {"keywords": ["road"]}}).json()
    assert (body["target"], body["rows"], body["sampled_rows"]) == ("contracts", 4, 4)
    assert body["approximate_bytes"] > 4 * 50


def test_time_ranges_answer_a_get(alice_client, chip_dataset):
    cache.delete_many([time_ranges_cache_key(v) for v in range(1, 10)])
    DatasetVersion.bump()
    body = alice_client.get(reverse("time-ranges")).json()
    assert [(y["year"], [q["quarter"] for q in y["quarters"]]) for y in body["years"]] == [
        (2022, [4]),
        (2023, [1, 2, 3]),
        (2024, [2, 3]),
    ]
    cache.delete_many([time_ranges_cache_key(v) for v in range(1, 10)])


@pytest.mark.parametrize(
    ("name", "body", "field"),
    [
        ("chip-value-distribution", {"bins": 1001}, "bins"),
        ("chip-value-distribution", {"bins": 0}, "bins"),
        ("chip-value-distribution", {"scale": "cubic"}, "scale"),
        ("chip-value-distribution", {"band_percent": "30"}, "band_percent"),
        ("chip-benford", {"filters": {"contractor": ["x"]}}, "filters.contractor"),
        ("chip-rounding", {"digits": 3}, "digits"),
        ("chip-related-entities", {"dimension": "area", "name": "Cebu", "target": "area"}, "target"),
        ("chip-related-entities", {"dimension": "city", "name": "Cebu", "target": "area"}, "dimension"),
        ("chip-related-entities", {"dimension": "area", "target": "contractor"}, "name"),
        ("chip-related-entities", {"dimension": "area", "name": 5, "target": "contractor"}, "name"),
        (
            "chip-related-entities",
            {"dimension": "area", "name": "x", "target": "contractor", "top_n": 51},
            "top_n",
        ),
        (
            "chip-related-contracts",
            {"dimension": "area", "name": "x", "target": "contractor", "target_name": "y", "page_size": 101},
            "page_size",
        ),
        ("chip-entity-table-export", {"entity_type": "region"}, "entity_type"),
        ("chip-entity-table-export", {"entity_type": "area", "ordering": "-amount"}, "ordering"),
        ("export-estimate", {"target": "entity_table"}, "entity_type"),
        ("export-estimate", {"target": "everything"}, "target"),
        ("chip-value-treemap", {"categories": 31}, "categories"),
        ("chip-value-treemap", {"contractors": 0}, "contractors"),
    ],
)
def test_bad_input_names_the_field(alice_client, name, body, field):
    error = post(alice_client, name, body, status=400).json()
    assert error["status"] == "error"
    assert field in error["errors"], error
