"""POST chip-aggregates/ and chip-aggregates-paginated/ over the hand-made dataset."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

import pytest
from django.urls import reverse

from contracts.models import Contract

AGGREGATES = reverse("chip-aggregates")
TABLE = reverse("chip-aggregates-paginated")


def post(client, url, body):
    response = client.post(url, body, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def expected_totals(contracts, key) -> dict[object, tuple[int, str]]:
    """Independent (count, total) per key, computed in Python."""
    count: dict[object, int] = defaultdict(int)
    total: dict[object, Decimal] = defaultdict(Decimal)
    for contract in contracts:
        k = key(contract)
        if k is not None:
            count[k] += 1
            total[k] += contract.amount
    return {k: (count[k], f"{total[k]:.2f}") for k in count}


def test_aggregates_match_a_python_computation(alice_client, chip_dataset):
    body = post(alice_client, AGGREGATES, {"filters": {}})
    contracts = list(Contract.objects.select_related("contractor", "area"))

    total = sum(c.amount for c in contracts)
    assert body["summary"] == {
        "count": 6,
        "total_amount": f"{total:.2f}",
        "average_amount": f"{total / 6:.2f}",
        "first_award_date": "2022-12-31",
        "last_award_date": "2024-07-15",
    }
    by_year = expected_totals(contracts, lambda c: c.award_date.year)
    assert body["by_year"] == [
        {"year": y, "count": by_year[y][0], "total_amount": by_year[y][1]} for y in sorted(by_year)
    ]
    by_month = expected_totals(contracts, lambda c: c.award_date.strftime("%Y-%m"))
    assert body["by_month"] == [
        {"month": m, "count": by_month[m][0], "total_amount": by_month[m][1]} for m in sorted(by_month)
    ]
    by_contractor = expected_totals(contracts, lambda c: c.contractor.name)
    assert body["top_contractors"] == [
        {"name": name, "count": n, "total_amount": amount}
        for name, (n, amount) in sorted(by_contractor.items(), key=lambda item: -Decimal(item[1][1]))
    ]
    # The contract without an area belongs to no area.
    assert [row["name"] for row in body["top_areas"]] == ["Cebu", "Metro Manila"]
    assert sum(row["count"] for row in body["top_areas"]) == 5


def test_aggregates_respect_filters_and_top_n(alice_client, chip_dataset):
    body = post(alice_client, AGGREGATES, {"filters": {"keywords": ["road"], "page": 3}, "top_n": 1})

    assert body["summary"]["count"] == 4
    assert body["summary"]["total_amount"] == "6950000.50"
    assert body["top_contractors"] == [{"name": "XYZ Trading", "count": 1, "total_amount": "5000000.00"}]
    assert body["top_organizations"] == [{"name": "DPWH", "count": 3, "total_amount": "6700000.00"}]
    assert len(body["top_areas"]) == 1
    assert len(body["top_business_categories"]) == 1


def test_aggregates_of_nothing(alice_client, chip_dataset):
    body = post(alice_client, AGGREGATES, {"filters": {"contractors": ["Nobody"]}})
    assert body == {
        "summary": {
            "count": 0,
            "total_amount": "0.00",
            "average_amount": None,
            "first_award_date": None,
            "last_award_date": None,
        },
        "by_year": [],
        "by_month": [],
        "top_contractors": [],
        "top_areas": [],
        "top_organizations": [],
        "top_business_categories": [],
    }


def test_entity_table_rows(alice_client, chip_dataset):
    body = post(alice_client, TABLE, {"filters": {}, "entity_type": "contractor"})

    assert body["entity_type"] == "contractor"
    assert body["results"][0] == {
        "name": "XYZ Trading",
        "contract_count": 2,
        "total_amount": "5012345.67",
        "average_amount": "2506172.84",  # 2506172.835 rounds half up
        "first_award_date": "2022-12-31",
        "last_award_date": "2024-04-01",
    }
    assert [row["name"] for row in body["results"]] == [
        "XYZ Trading",
        "ABC Corp",
        "ABC Corporation",
        "Lone Builder",
    ]
    assert body["pagination"]["total_count"] == 4


@pytest.mark.parametrize(
    ("entity_type", "ordering", "expected"),
    [
        ("contractor", "name", ["ABC Corp", "ABC Corporation", "Lone Builder", "XYZ Trading"]),
        ("contractor", "-name", ["XYZ Trading", "Lone Builder", "ABC Corporation", "ABC Corp"]),
        # Ties (one contract each) go to the entity created first.
        ("contractor", "contract_count", ["Lone Builder", "ABC Corporation", "ABC Corp", "XYZ Trading"]),
        ("contractor", "-average_amount", ["XYZ Trading", "ABC Corporation", "ABC Corp", "Lone Builder"]),
        ("contractor", "first_award_date", ["XYZ Trading", "ABC Corp", "ABC Corporation", "Lone Builder"]),
        ("contractor", "-last_award_date", ["Lone Builder", "XYZ Trading", "ABC Corporation", "ABC Corp"]),
        ("area", "-total_amount", ["Cebu", "Metro Manila"]),
        ("organization", "total_amount", ["DepEd", "DOH", "DPWH"]),
        ("business_category", "-contract_count", ["Construction Projects", "Textbooks", "Office Supplies"]),
    ],
)
def test_entity_table_orders(alice_client, chip_dataset, entity_type, ordering, expected):
    body = post(alice_client, TABLE, {"filters": {}, "entity_type": entity_type, "ordering": ordering})
    assert [row["name"] for row in body["results"]] == expected


def test_entity_table_breaks_ties_by_entity_id(alice_client, make_contract):
    for name in ("Charlie", "Alpha", "Bravo"):  # created in this order: ids rise
        make_contract(contractor=name, amount=10)
    body = post(alice_client, TABLE, {"entity_type": "contractor", "ordering": "-total_amount"})
    assert [row["name"] for row in body["results"]] == ["Charlie", "Alpha", "Bravo"]


def test_entity_table_paginates_top_level_page_first(alice_client, chip_dataset):
    body = post(
        alice_client,
        TABLE,
        {"filters": {"page": 1, "page_size": 1}, "entity_type": "contractor", "page": 2, "page_size": 3},
    )
    assert [row["name"] for row in body["results"]] == ["Lone Builder"]
    assert body["pagination"] == {
        "page": 2,
        "page_size": 3,
        "total_count": 4,
        "total_pages": 2,
        "has_next": False,
        "has_previous": True,
    }


def test_entity_table_falls_back_to_paging_inside_filters(alice_client, chip_dataset):
    body = post(alice_client, TABLE, {"filters": {"page": 2, "page_size": 1}, "entity_type": "contractor"})
    assert [row["name"] for row in body["results"]] == ["ABC Corp"]
    assert body["pagination"]["total_pages"] == 4


def test_entity_table_past_the_end_and_filtered(alice_client, chip_dataset):
    body = post(
        alice_client,
        TABLE,
        {"filters": {"time_ranges": ["2023"]}, "entity_type": "area", "page": 5},
    )
    assert body["results"] == []
    assert body["pagination"]["total_count"] == 2
    assert body["pagination"]["has_previous"] is True
