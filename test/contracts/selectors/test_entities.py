"""entity_table against an independent computation, over every entity type and ordering."""

from __future__ import annotations

import math
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

import pytest

from contracts.exceptions import InvalidQueryError
from contracts.filters import ContractFilters
from contracts.selectors import ENTITY_ORDERINGS, entity_table


def two_places(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def expected_rows(rows, relation):
    groups = defaultdict(list)
    for row in rows:
        entity = getattr(row, relation)
        if entity is not None:
            groups[entity].append(row)
    table = []
    for entity, members in groups.items():
        total = sum((m.amount for m in members), Decimal(0))
        table.append(
            {
                "id": entity.id,
                "name": entity.name,
                "contract_count": len(members),
                "total_amount": total,
                "average_amount": total / len(members),
                "first_award_date": min(m.award_date for m in members),
                "last_award_date": max(m.award_date for m in members),
            }
        )
    return table


def as_json(row):
    return {
        "name": row["name"],
        "contract_count": row["contract_count"],
        "total_amount": two_places(row["total_amount"]),
        "average_amount": two_places(row["average_amount"]),
        "first_award_date": row["first_award_date"].isoformat(),
        "last_award_date": row["last_award_date"].isoformat(),
    }


def sort_like_the_database(table, ordering):
    field = ordering.lstrip("-")
    table = sorted(table, key=lambda r: r["id"])  # the tie-break, ascending
    return sorted(table, key=lambda r: r[field], reverse=ordering.startswith("-"))


@pytest.mark.parametrize("relation", ["contractor", "area", "organization", "business_category"])
@pytest.mark.parametrize("ordering", [sign + name for name in ENTITY_ORDERINGS for sign in ("", "-")])
def test_every_page_matches_python(random_contracts, relation, ordering):
    expected = [
        as_json(r) for r in sort_like_the_database(expected_rows(random_contracts, relation), ordering)
    ]
    page_size = 4
    pages = math.ceil(len(expected) / page_size)

    got = []
    for page in range(1, pages + 2):
        result = entity_table(
            filters=ContractFilters(), entity_type=relation, page=page, page_size=page_size, ordering=ordering
        )
        assert result["entity_type"] == relation
        assert result["pagination"]["total_count"] == len(expected)
        assert result["pagination"]["total_pages"] == pages
        got += result["results"]

    assert got == expected


def test_it_applies_filters(random_contracts):
    filters = ContractFilters(keywords=("road",), organizations=("office 1", "OFFICE 2"))
    rows = [
        r
        for r in random_contracts
        if "ROAD" in r.title.upper() and r.organization.name in {"Office 1", "Office 2"}
    ]
    expected = [
        as_json(r) for r in sort_like_the_database(expected_rows(rows, "contractor"), "-total_amount")
    ]

    result = entity_table(filters=filters, entity_type="contractor", page_size=100)

    assert result["results"] == expected


def test_it_queries_a_constant_number_of_times(random_contracts, django_assert_num_queries):
    # Count the groups, fetch the page, name the page's entities.
    with django_assert_num_queries(3):
        entity_table(filters=ContractFilters(), entity_type="contractor", page=2, page_size=5)


def test_it_reports_progress(random_contracts):
    calls = []
    entity_table(filters=ContractFilters(), entity_type="area", on_progress=lambda *args: calls.append(args))
    assert [c[0] for c in calls] == [1, 2, 3]
    assert {c[1] for c in calls} == {3}


@pytest.mark.parametrize(
    ("kwargs", "path"),
    [({"entity_type": "vendor"}, "entity_type"), ({"entity_type": "area", "ordering": "amount"}, "ordering")],
)
def test_it_refuses_what_is_not_whitelisted(db, kwargs, path):
    with pytest.raises(InvalidQueryError) as raised:
        entity_table(filters=ContractFilters(), **kwargs)
    assert path in raised.value.errors
