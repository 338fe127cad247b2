"""The entity table as CSV (every row, streamed), and what an export would weigh.

The estimate is meant to be asked before a big export: an exact row count and the file size
extrapolated from a sample of real rows written exactly as the export writes them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from django.db.models import Avg, Count, F, Max, Min, QuerySet, Sum

from ..csv_format import CONTRACT_EXPORT_COLUMNS, ENTITY_EXPORT_COLUMNS, csv_lines
from ..entities import BY_KEY
from ..filters import ContractFilters, filter_contracts
from .entities import ENTITY_ORDERINGS, entity_table
from .search import contract_search, iso, money, order_by_clause
from .totals import matching_entity_count

EXPORT_TARGETS = ("contracts", "entity_table")
# Rows written to measure the average line length.
ESTIMATE_SAMPLE_ROWS = 200
ROWS_PER_FETCH = 2000


def entity_export_header(entity_type: str) -> list[str]:
    return [header or BY_KEY[entity_type].label for _key, header in ENTITY_EXPORT_COLUMNS]


def _groups(filters: ContractFilters, entity_type: str) -> QuerySet:
    """Every entity-table row of ``entity_type``, named (the table's own columns)."""
    entity = BY_KEY[entity_type]
    return (
        filter_contracts(filters)
        .order_by()
        .filter(**{f"{entity.column}__isnull": False})  # a contract without an area is no area's
        .values(entity.column, f"{entity.key}__name")
        .annotate(
            contract_count=Count("id"),
            total_amount=Sum("amount"),
            average_amount=Avg("amount"),
            first_award_date=Min("award_date"),
            last_award_date=Max("award_date"),
        )
    )


def _ordered_groups(filters: ContractFilters, entity_type: str, ordering: str) -> QuerySet:
    """The rows in the entity table's order (ties broken by the entity id)."""
    entity = BY_KEY[entity_type]
    field, descending = order_by_clause(ordering, ENTITY_ORDERINGS)
    key = F(f"{entity.key}__name" if field == "name" else field)
    primary = key.desc(nulls_last=True) if descending else key.asc(nulls_last=True)
    return _groups(filters, entity_type).order_by(primary, entity.column)


def _entity_csv_row(group: dict[str, Any], entity_type: str) -> list[Any]:
    row = {
        "name": group[f"{BY_KEY[entity_type].key}__name"],
        "contract_count": group["contract_count"],
        "total_amount": money(group["total_amount"]),
        "average_amount": money(group["average_amount"]),
        "first_award_date": iso(group["first_award_date"]),
        "last_award_date": iso(group["last_award_date"]),
    }
    return [row[key] for key, _header in ENTITY_EXPORT_COLUMNS]


def entity_export_lines(
    *, filters: ContractFilters, entity_type: str, ordering: str = "-total_amount"
) -> Iterator[str]:
    """The entity-table CSV, header first, one line at a time, in the table's order; rows
    come through a server-side cursor, so memory stays flat however many entities match."""
    groups = _ordered_groups(filters, entity_type, ordering)
    yield from csv_lines([entity_export_header(entity_type)])
    yield from csv_lines(
        _entity_csv_row(group, entity_type) for group in groups.iterator(chunk_size=ROWS_PER_FETCH)
    )


def entity_export_count(*, filters: ContractFilters, entity_type: str) -> int:
    """How many rows (entities) the entity-table CSV will have."""
    return matching_entity_count(filters=filters, entity=BY_KEY[entity_type])


def _line_sizes(rows: Iterable[Iterable[Any]]) -> list[int]:
    return [len(line.encode()) for line in csv_lines(rows)]


# A search result's key for each export column ("contractor__name" is "contractor"); the
# search formats amounts and dates as the export writes them.
_SEARCH_KEYS = tuple(path.split("__")[0] for path, _ in CONTRACT_EXPORT_COLUMNS)


def export_estimate(
    *, filters: ContractFilters, target: str = "contracts", entity_type: str | None = None
) -> dict[str, Any]:
    """``{"target", "entity_type", "rows", "approximate_bytes", "sampled_rows"}``: the exact
    number of data rows and the size of header + rows times the sample's mean line length.

    Count and sample are the first page of the search (newest first) or of the entity table
    (largest total first): one query each on the columnar snapshot, where the database needs
    seconds at 5.5M rows for a keyword or for grouping every contractor."""
    if target == "contracts":
        page = contract_search(filters=filters, page_size=ESTIMATE_SAMPLE_ROWS)
        header = [header for _, header in CONTRACT_EXPORT_COLUMNS]
        sample = [[row[key] for key in _SEARCH_KEYS] for row in page["results"]]
    else:
        assert entity_type is not None, "the serializer requires entity_type for the entity table"
        page = entity_table(filters=filters, entity_type=entity_type, page_size=ESTIMATE_SAMPLE_ROWS)
        header = entity_export_header(entity_type)
        sample = [[row[key] for key, _ in ENTITY_EXPORT_COLUMNS] for row in page["results"]]
    rows = page["pagination"]["total_count"]
    header_bytes, *sample_sizes = _line_sizes([header, *sample])
    average = sum(sample_sizes) / len(sample_sizes) if sample_sizes else 0
    return {
        "target": target,
        "entity_type": entity_type if target == "entity_table" else None,
        "rows": rows,
        "approximate_bytes": header_bytes + round(average * rows),
        "sampled_rows": len(sample_sizes),
    }
