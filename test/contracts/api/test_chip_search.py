"""POST /api/v1/contracts/chip-search/: filter semantics, paging and ordering over HTTP."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

URL = reverse("chip-search")


def search(client, filters=None, **extra):
    body = {"filters": filters or {}, **extra}
    response = client.post(URL, body, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def refs(body) -> set[str]:
    return {row["reference_id"] for row in body["results"]}


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({}, {"R1", "R2", "R3", "R4", "R5", "R6"}),
        # Chip names match whole names, case-insensitively and ignoring extra spaces.
        ({"contractors": ["abc corp"]}, {"R1", "R2"}),
        ({"contractors": ["  ABC   Corp "]}, {"R1", "R2"}),
        # OR inside one list.
        ({"contractors": ["ABC Corp", "xyz trading"]}, {"R1", "R2", "R3", "R4"}),
        # AND across lists.
        ({"contractors": ["ABC Corp"], "areas": ["cebu"]}, {"R2"}),
        ({"organizations": ["DPWH"], "business_categories": ["Construction Projects"]}, {"R1", "R3", "R6"}),
        ({"organizations": ["DepEd"], "areas": ["Metro Manila"], "contractors": ["XYZ Trading"]}, {"R4"}),
        ({"contractors": ["Nobody"]}, set()),
        # Every keyword must occur in the title, case-insensitively.
        ({"keywords": ["road"]}, {"R1", "R3", "R5", "R6"}),
        ({"keywords": ["ROAD", "bridge"]}, {"R3"}),
        ({"keywords": ["road", "nowhere"]}, set()),
        ({"keywords": ["road"], "contractors": ["ABC Corp", "Lone Builder"]}, {"R1", "R5"}),
        # Every time-range shape; boundaries are inclusive; several ranges are OR'ed.
        ({"time_ranges": ["2023"]}, {"R1", "R2", "R6"}),
        ({"time_ranges": [2022]}, {"R4"}),
        ({"time_ranges": [{"start": "2023-02-10", "end": "2023-05-20"}]}, {"R1", "R2"}),
        ({"time_ranges": [{"type": "yearly", "year": 2024}]}, {"R3", "R5"}),
        ({"time_ranges": [{"type": "quarterly", "year": 2023, "quarter": 3}]}, {"R6"}),
        ({"time_ranges": [{"type": "quarterly", "year": 2023, "quarter": 1}]}, {"R1"}),
        ({"time_ranges": [{"type": "quarterly", "year": 2022, "quarter": 4}]}, {"R4"}),
        (
            {"time_ranges": [{"type": "custom", "startDate": "2022-12-31", "endDate": "2023-02-10"}]},
            {"R1", "R4"},
        ),
        (
            {
                "time_ranges": [
                    {"type": "custom", "startDate": "2024-04-01T00:00:00Z", "endDate": "2024-04-01"}
                ]
            },
            {"R3"},
        ),
        ({"time_ranges": ["2022", {"type": "quarterly", "year": 2024, "quarter": 3}]}, {"R4", "R5"}),
        ({"time_ranges": ["2023"], "areas": ["Metro Manila"]}, {"R1", "R6"}),
        # The value range is inclusive at both ends; either end may be left open.
        ({"value_range": {"min": "250000.50", "max": 1000000}}, {"R1", "R5", "R6"}),
        ({"value_range": {"min": 1000000.01}}, {"R3"}),
        ({"value_range": {"max": "12345.67"}}, {"R4"}),
        ({"value_range": {"min": None, "max": None}}, {"R1", "R2", "R3", "R4", "R5", "R6"}),
    ],
)
def test_it_applies_the_chip_rules(alice_client, chip_dataset, filters, expected):
    body = search(alice_client, filters)
    assert refs(body) == expected
    assert body["pagination"]["total_count"] == len(expected)


def test_it_returns_each_contract_as_plain_json(alice_client, chip_dataset):
    contract = chip_dataset["lone_hospital"]
    contract.notice_title = "Access road notice"
    contract.approved_budget = "300000"
    contract.procurement_mode = "Public Bidding"
    contract.save()

    body = search(alice_client, {"contractors": ["Lone Builder"]})

    assert body["results"] == [
        {
            "id": contract.id,
            "reference_id": "R5",
            "title": "Hospital road access",
            "notice_title": "Access road notice",
            "contractor": "Lone Builder",
            "organization": "DOH",
            "area": None,
            "business_category": None,
            "amount": "250000.50",
            "award_date": "2024-07-15",
            "procurement_mode": "Public Bidding",
            "classification": "",
            "approved_budget": "300000.00",
        }
    ]


@pytest.fixture
def many_contracts(make_contract):
    """45 contracts, one a day, amounts rising with the date."""
    start = dt.date(2023, 1, 1)
    return [
        make_contract(
            reference_id=f"P{n:03d}",
            amount=1000 + n,
            award_date=start + dt.timedelta(days=n),
        )
        for n in range(45)
    ]


@pytest.mark.parametrize(
    ("page", "page_size", "count", "total_pages", "has_next", "has_previous"),
    [
        (1, 20, 20, 3, True, False),
        (2, 20, 20, 3, True, True),
        (3, 20, 5, 3, False, True),  # the last page is short
        (4, 20, 0, 3, False, True),  # past the end: empty, not an error
        (1000, 20, 0, 3, False, True),
        (1, 1, 1, 45, True, False),
        (45, 1, 1, 45, False, True),
        (1, 100, 45, 1, False, False),
        (1, 45, 45, 1, False, False),
    ],
)
def test_it_paginates(
    alice_client, many_contracts, page, page_size, count, total_pages, has_next, has_previous
):
    body = search(alice_client, {"page": page, "page_size": page_size})

    assert len(body["results"]) == count
    assert body["pagination"] == {
        "page": page,
        "page_size": page_size,
        "total_count": 45,
        "total_pages": total_pages,
        "has_next": has_next,
        "has_previous": has_previous,
    }


def test_pages_cover_every_row_once(alice_client, many_contracts):
    seen = []
    for page in (1, 2, 3):
        seen += [
            row["reference_id"] for row in search(alice_client, {"page": page, "page_size": 20})["results"]
        ]
    assert sorted(seen) == sorted(c.reference_id for c in many_contracts)


def test_it_defaults_to_page_one_of_twenty_newest_first(alice_client, many_contracts):
    body = search(alice_client)
    assert body["pagination"]["page"] == 1
    assert body["pagination"]["page_size"] == 20
    assert [row["reference_id"] for row in body["results"]] == [f"P{n:03d}" for n in range(44, 24, -1)]


def test_an_empty_result_has_no_pages(alice_client, many_contracts):
    body = search(alice_client, {"contractors": ["Nobody"]})
    assert body == {
        "results": [],
        "pagination": {
            "page": 1,
            "page_size": 20,
            "total_count": 0,
            "total_pages": 0,
            "has_next": False,
            "has_previous": False,
        },
    }


@pytest.mark.parametrize(
    ("ordering", "expected"),
    [
        ("amount", ["R4", "R2", "R5", "R6", "R1", "R3"]),
        ("-amount", ["R3", "R1", "R6", "R5", "R2", "R4"]),
        ("award_date", ["R4", "R1", "R2", "R6", "R3", "R5"]),
        ("-award_date", ["R5", "R3", "R6", "R2", "R1", "R4"]),
        ("reference_id", ["R1", "R2", "R3", "R4", "R5", "R6"]),
        ("-reference_id", ["R6", "R5", "R4", "R3", "R2", "R1"]),
    ],
)
def test_it_orders(alice_client, chip_dataset, ordering, expected):
    body = search(alice_client, ordering=ordering)
    assert [row["reference_id"] for row in body["results"]] == expected


def test_it_breaks_ties_by_id(alice_client, make_contract):
    same_day = [make_contract(reference_id=f"T{n}", award_date="2023-03-03", amount=5) for n in range(5)]
    ids = [c.id for c in same_day]

    newest = search(alice_client, ordering="-award_date")["results"]
    oldest = search(alice_client, ordering="award_date")["results"]
    cheapest_two = search(alice_client, {"page_size": 2, "page": 2}, ordering="amount")["results"]

    assert [row["id"] for row in newest] == sorted(ids, reverse=True)
    assert [row["id"] for row in oldest] == sorted(ids)
    assert [row["id"] for row in cheapest_two] == sorted(ids)[2:4]
