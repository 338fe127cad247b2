"""Drill-down, entity-table export, export estimate and time ranges against plain Python."""

from __future__ import annotations

import csv
import io
import itertools
from collections import Counter, defaultdict
from decimal import Decimal

import pytest
from django.core.cache import cache

from contracts.csv_format import CONTRACT_EXPORT_COLUMNS
from contracts.entities import BY_KEY
from contracts.exceptions import InvalidQueryError
from contracts.filters import ContractFilters, filter_contracts
from contracts.models import Contract, DatasetVersion
from contracts.selectors import entity_table
from contracts.selectors.drilldown import related_contracts, related_entities
from contracts.selectors.table_export import entity_export_lines, export_estimate
from contracts.selectors.time_ranges import available_time_ranges, time_ranges_cache_key
from contracts.selectors.treemap import value_treemap

from .test_red_flags import FILTER_CASES

PAIRS = [(a, b) for a, b in itertools.permutations(BY_KEY, 2)]


def rows_matching(rows, filters):
    ids = set(filter_contracts(filters).values_list("id", flat=True))
    return [row for row in rows if row.id in ids]


def top_entity(rows, dimension):
    """The entity of `dimension` with the most contracts among `rows` (a busy one to drill into)."""
    counts = Counter(getattr(r, dimension) for r in rows if getattr(r, dimension) is not None)
    return counts.most_common(1)[0][0]


@pytest.mark.parametrize("case", ["everything", "keyword", "dated_and_bounded"])
@pytest.mark.parametrize(("dimension", "target"), PAIRS)
def test_related_entities_match_python(amount_contracts, case, dimension, target):
    rows = rows_matching(amount_contracts, FILTER_CASES[case])
    entity = top_entity(amount_contracts, dimension)
    mine = [r for r in rows if getattr(r, dimension) == entity]
    count: dict = defaultdict(int)
    total: dict = defaultdict(Decimal)
    for r in mine:
        if getattr(r, target) is not None:
            count[getattr(r, target)] += 1
            total[getattr(r, target)] += r.amount
    ranked = sorted(count, key=lambda e: (-total[e], e.id))[:3]

    # The name as a user might type it: other case, extra spaces.
    result = related_entities(
        filters=FILTER_CASES[case],
        dimension=dimension,
        name=f"  {entity.name.lower()} ",
        target=target,
        top_n=3,
    )
    assert result["count"] == len(mine)
    assert result["total_amount"] == f"{sum((r.amount for r in mine), Decimal(0)):.2f}"
    assert result["related_count"] == len(count)
    assert result["results"] == [
        {"name": e.name, "count": count[e], "total_amount": f"{total[e]:.2f}"} for e in ranked
    ]


def test_an_unknown_entity_has_nothing_related(amount_contracts):
    result = related_entities(filters=ContractFilters(), dimension="contractor", name="Nobody", target="area")
    assert (result["count"], result["total_amount"], result["results"]) == (0, "0.00", [])


def test_a_dimension_cannot_relate_to_itself(amount_contracts):
    with pytest.raises(InvalidQueryError):
        related_entities(filters=ContractFilters(), dimension="area", name="Province 1", target="area")


@pytest.mark.parametrize("case", ["everything", "keyword"])
@pytest.mark.parametrize("ordering", ["-award_date", "amount"])
def test_related_contracts_page_through_the_pair(amount_contracts, case, ordering):
    rows = rows_matching(amount_contracts, FILTER_CASES[case])
    contractor = top_entity(amount_contracts, "contractor")
    organization = top_entity([r for r in amount_contracts if r.contractor == contractor], "organization")
    pair = [r for r in rows if r.contractor == contractor and r.organization == organization]
    field = ordering.lstrip("-")
    expected = sorted(pair, key=lambda r: (getattr(r, field), r.id), reverse=ordering.startswith("-"))

    seen, page = [], 1
    while True:
        result = related_contracts(
            filters=FILTER_CASES[case],
            dimension="contractor",
            name=contractor.name,
            target="organization",
            target_name=organization.name.upper(),
            page=page,
            page_size=7,
            ordering=ordering,
        )
        assert result["pagination"]["total_count"] == len(pair)
        seen += [row["reference_id"] for row in result["results"]]
        if not result["pagination"]["has_next"]:
            break
        page += 1
    assert seen == [r.reference_id for r in expected]
    assert all(row["contractor"] == contractor.name for row in result["results"])


# --- Entity-table export and estimate --------------------------------------------------------


@pytest.mark.parametrize("entity_type", list(BY_KEY))
@pytest.mark.parametrize("case", ["everything", "entities"])
def test_the_csv_holds_every_table_row_in_order(amount_contracts, entity_type, case):
    filters = FILTER_CASES[case]
    table = entity_table(filters=filters, entity_type=entity_type, page_size=100, ordering="-contract_count")
    lines = list(entity_export_lines(filters=filters, entity_type=entity_type, ordering="-contract_count"))
    rows = list(csv.reader(io.StringIO("".join(lines))))

    assert rows[0] == [
        BY_KEY[entity_type].label,
        "Contracts",
        "Total Amount (PHP)",
        "Average Amount (PHP)",
        "First Award Date",
        "Last Award Date",
    ]
    assert rows[1:] == [
        [
            r["name"],
            str(r["contract_count"]),
            r["total_amount"],
            r["average_amount"],
            r["first_award_date"],
            r["last_award_date"],
        ]
        for r in table["results"]
    ]
    assert len(lines) == len(rows)  # one line per row: streamed row by row


def test_a_name_that_looks_like_a_formula_is_defused(make_contract):
    make_contract(contractor="=HYPERLINK(1)")
    rows = list(
        csv.reader(
            io.StringIO(
                "".join(
                    entity_export_lines(
                        filters=ContractFilters(contractors=("=hyperlink(1)",)), entity_type="contractor"
                    )
                )
            )
        )
    )
    assert rows[1][0] == "'=HYPERLINK(1)"


def exported_contracts_bytes(filters) -> int:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([header for _, header in CONTRACT_EXPORT_COLUMNS])
    for row in filter_contracts(filters).values_list(*(path for path, _ in CONTRACT_EXPORT_COLUMNS)):
        writer.writerow(row)
    return len(buffer.getvalue().encode())


@pytest.mark.parametrize("case", list(FILTER_CASES))
def test_the_contract_export_estimate(amount_contracts, case):
    filters = FILTER_CASES[case]
    estimate = export_estimate(filters=filters, target="contracts")
    rows = len(rows_matching(amount_contracts, filters))
    assert estimate["rows"] == rows
    assert estimate["sampled_rows"] == min(rows, 200)
    actual = exported_contracts_bytes(filters)
    assert abs(estimate["approximate_bytes"] - actual) <= 0.1 * actual


@pytest.mark.parametrize("entity_type", list(BY_KEY))
def test_the_entity_table_estimate(amount_contracts, entity_type):
    estimate = export_estimate(filters=ContractFilters(), target="entity_table", entity_type=entity_type)
    actual = "".join(entity_export_lines(filters=ContractFilters(), entity_type=entity_type))
    assert estimate["rows"] == actual.count("\n") - 1
    assert estimate["entity_type"] == entity_type
    assert abs(estimate["approximate_bytes"] - len(actual.encode())) <= 0.1 * len(actual.encode())


# --- Time ranges -----------------------------------------------------------------------------


def forget_time_ranges() -> None:
    """Versions restart with each test's rolled-back database, but the cache lives on."""
    cache.delete_many([time_ranges_cache_key(v) for v in range(1, 10)])


def test_time_ranges_list_only_what_has_data_and_follow_the_version(amount_contracts):
    forget_time_ranges()
    DatasetVersion.bump()
    quarters = Counter((r.award_date.year, (r.award_date.month - 1) // 3 + 1) for r in amount_contracts)
    result = available_time_ranges()
    assert [(y["year"], q["quarter"], q["count"]) for y in result["years"] for q in y["quarters"]] == sorted(
        (y, q, n) for (y, q), n in quarters.items()
    )
    assert [y["count"] for y in result["years"]] == [
        sum(n for (y, _), n in quarters.items() if y == year) for year in sorted({y for y, _ in quarters})
    ]
    assert result["first_award_date"] == min(r.award_date for r in amount_contracts).isoformat()

    # Cached for this version: a new contract shows only once the version moves on.
    template = amount_contracts[0]
    Contract.objects.create(
        reference_id="LATE",
        title="x",
        contractor=template.contractor,
        organization=template.organization,
        amount=Decimal(1),
        award_date="2030-08-01",
    )
    assert available_time_ranges() == result
    DatasetVersion.bump()
    assert available_time_ranges()["years"][-1] == {
        "year": 2030,
        "count": 1,
        "quarters": [{"quarter": 3, "count": 1}],
    }
    forget_time_ranges()


# --- Treemap ---------------------------------------------------------------------------------


@pytest.mark.parametrize("case", list(FILTER_CASES))
@pytest.mark.parametrize(("categories", "contractors"), [(2, 3), (12, 8)])
def test_the_treemap_matches_python(amount_contracts, case, categories, contractors):
    rows = rows_matching(amount_contracts, FILTER_CASES[case])
    by_cat: dict = defaultdict(lambda: defaultdict(lambda: [0, Decimal(0)]))
    for r in rows:
        cell = by_cat[r.business_category][r.contractor]
        cell[0] += 1
        cell[1] += r.amount
    cat_totals = {
        c: (sum(v[0] for v in cons.values()), sum((v[1] for v in cons.values()), Decimal(0)))
        for c, cons in by_cat.items()
        if c is not None
    }
    ranked = sorted(cat_totals, key=lambda c: (-cat_totals[c][1], c.id))
    result = value_treemap(filters=FILTER_CASES[case], categories=categories, contractors=contractors)

    assert result["count"] == len(rows)
    assert result["total_amount"] == f"{sum((r.amount for r in rows), Decimal(0)):.2f}"
    assert [t["name"] for t in result["categories"]] == [c.name for c in ranked[:categories]]
    for tile, cat in zip(result["categories"], ranked, strict=False):
        cons = by_cat[cat]
        top = sorted(cons, key=lambda k: (-cons[k][1], k.id))[:contractors]
        assert tile["contractors"] == [
            {"name": k.name, "count": cons[k][0], "total_amount": f"{cons[k][1]:.2f}"} for k in top
        ]
        rest = [cons[k] for k in cons if k not in top]
        assert tile["other"] == {
            "count": sum(v[0] for v in rest),
            "total_amount": f"{sum((v[1] for v in rest), Decimal(0)):.2f}",
        }
    rest_cats = ranked[categories:]
    assert result["other_categories"]["categories"] == len(rest_cats)
    assert result["other_categories"]["count"] == sum(cat_totals[c][0] for c in rest_cats)
    none = by_cat.get(None, {})
    assert result["without_category"]["count"] == sum(v[0] for v in none.values())


def test_the_entity_replaces_the_chips_of_its_own_dimension(amount_contracts):
    """Drilling into Builder 00 while Builder 01 is chosen shows Builder 00's contracts; the
    chips of the other dimensions still apply."""
    filters = ContractFilters(contractors=("Builder 01",), keywords=("road",))
    result = related_entities(filters=filters, dimension="contractor", name="Builder 00", target="area")
    expected = [r for r in amount_contracts if r.contractor.name == "Builder 00" and "Road" in r.title]
    assert result["count"] == len(expected) > 0
