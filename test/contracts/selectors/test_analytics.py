"""contract_aggregates against an independent computation over the same rows."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from contracts.filters import ContractFilters, DateRange, filter_contracts
from contracts.selectors import contract_aggregates
from contracts.selectors.analytics import _aggregates_per_grouping

FILTER_CASES = {
    "everything": ContractFilters(),
    "keyword": ContractFilters(keywords=("road",)),
    "dated_and_bounded": ContractFilters(
        time_ranges=(
            DateRange(dt.date(2020, 3, 1), dt.date(2021, 6, 30)),
            DateRange(dt.date(2024, 1, 1), dt.date(2024, 12, 31)),
        ),
        min_amount=Decimal("1000000"),
    ),
    "entities": ContractFilters(areas=("region 1", "Region 2"), business_categories=("Category 0",)),
}


def two_places(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def totals_by(rows, key):
    count: dict[object, int] = defaultdict(int)
    total: dict[object, Decimal] = defaultdict(Decimal)
    for row in rows:
        k = key(row)
        if k is not None:
            count[k] += 1
            total[k] += row.amount
    return count, total


def expected_aggregates(rows, top_n: int) -> dict:
    """What contract_aggregates must return, computed in plain Python."""
    total = sum((r.amount for r in rows), Decimal(0))
    result = {
        "summary": {
            "count": len(rows),
            "total_amount": two_places(total),
            "average_amount": two_places(total / len(rows)) if rows else None,
            "first_award_date": min(r.award_date for r in rows).isoformat() if rows else None,
            "last_award_date": max(r.award_date for r in rows).isoformat() if rows else None,
        }
    }
    count, amount = totals_by(rows, lambda r: r.award_date.year)
    result["by_year"] = [
        {"year": y, "count": count[y], "total_amount": two_places(amount[y])} for y in sorted(count)
    ]
    count, amount = totals_by(rows, lambda r: r.award_date.strftime("%Y-%m"))
    result["by_month"] = [
        {"month": m, "count": count[m], "total_amount": two_places(amount[m])} for m in sorted(count)
    ]
    for key, relation in (
        ("top_contractors", "contractor"),
        ("top_areas", "area"),
        ("top_organizations", "organization"),
        ("top_business_categories", "business_category"),
    ):
        count, amount = totals_by(rows, lambda r, rel=relation: getattr(r, rel))
        ranked = sorted(count, key=lambda e, amount=amount: (-amount[e], e.id))[:top_n]
        result[key] = [
            {"name": e.name, "count": count[e], "total_amount": two_places(amount[e])} for e in ranked
        ]
    return result


def matching_rows(random_contracts, filters):
    ids = set(filter_contracts(filters).values_list("id", flat=True))
    return [row for row in random_contracts if row.id in ids]


@pytest.mark.parametrize("case", list(FILTER_CASES))
@pytest.mark.parametrize("top_n", [1, 3, 10])
def test_it_matches_python_totals(random_contracts, case, top_n):
    filters = FILTER_CASES[case]
    rows = matching_rows(random_contracts, filters)
    assert rows or case == "none"

    assert contract_aggregates(filters=filters, top_n=top_n) == expected_aggregates(rows, top_n)


@pytest.mark.parametrize("case", list(FILTER_CASES))
def test_the_per_grouping_fallback_agrees(random_contracts, case):
    filters = FILTER_CASES[case]
    fallback = _aggregates_per_grouping(filters, 5, lambda done, total, message: None)
    assert fallback == contract_aggregates(filters=filters, top_n=5)


def test_it_reads_the_rows_once_on_postgresql(random_contracts):
    # One grouping-sets pass over the contracts, then one tiny name look-up per entity table
    # (besides the SET LOCAL work_mem and the savepoint around them).
    with CaptureQueriesContext(connection) as queries:
        contract_aggregates(filters=ContractFilters(keywords=("road",)), top_n=10)

    scans = [q["sql"] for q in queries.captured_queries if '"contracts_contract"' in q["sql"]]
    name_lookups = [q["sql"] for q in queries.captured_queries if '"id" IN (' in q["sql"]]
    assert len(scans) == 1
    assert len(name_lookups) == 4


def test_it_handles_no_rows(db):
    result = contract_aggregates(filters=ContractFilters())
    assert result["summary"] == {
        "count": 0,
        "total_amount": "0.00",
        "average_amount": None,
        "first_award_date": None,
        "last_award_date": None,
    }
    assert result["by_year"] == result["top_areas"] == []


@pytest.mark.parametrize("use_fallback", [False, True])
def test_it_reports_monotonic_progress(random_contracts, use_fallback):
    calls: list[tuple[int, int, str]] = []

    def record(done: int, total: int, message: str) -> None:
        calls.append((done, total, message))

    if use_fallback:
        _aggregates_per_grouping(ContractFilters(), 10, record)
    else:
        contract_aggregates(filters=ContractFilters(), on_progress=record)

    done = [c[0] for c in calls]
    assert len(calls) >= 2
    assert done == sorted(set(done))
    assert len({c[1] for c in calls}) == 1
    assert calls[-1][0] == calls[-1][1]
    assert all(message for _, _, message in calls)


@pytest.mark.parametrize("use_fallback", [False, True])
def test_months_of_any_year_are_written_with_four_digit_years(make_contract, use_fallback):
    """An export's odd dates (year 1, year 999) still give "YYYY-MM" months, as ISO dates do."""
    for day in ("0001-01-05", "0999-03-01", "2024-11-30"):
        make_contract(award_date=day)

    if use_fallback:
        result = _aggregates_per_grouping(ContractFilters(), 5, lambda done, total, message: None)
    else:
        result = contract_aggregates(filters=ContractFilters(), top_n=5)

    assert [m["month"] for m in result["by_month"]] == ["0001-01", "0999-03", "2024-11"]
    assert [y["year"] for y in result["by_year"]] == [1, 999, 2024]
