"""The entity table as CSV (every row, streamed), and what an export would weigh.

The estimate is meant to be asked before a big export: an exact row count and the file size
extrapolated from a sample of real rows written exactly as the export writes them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from ..csv_format import CONTRACT_EXPORT_COLUMNS, ENTITY_EXPORT_COLUMNS, csv_lines
from ..entities import BY_KEY
from ..filters import ContractFilters
from .entities import entity_table, entity_table_rows
from .search import contract_search
from .totals import matching_entity_count

EXPORT_TARGETS = ("contracts", "entity_table")
# Rows written to measure the average line length.
ESTIMATE_SAMPLE_ROWS = 200


def entity_export_header(entity_type: str) -> list[str]:
    return [header or BY_KEY[entity_type].label for _key, header in ENTITY_EXPORT_COLUMNS]


def entity_export_lines(
    *, filters: ContractFilters, entity_type: str, ordering: str = "-total_amount"
) -> Iterator[str]:
    """The entity-table CSV, header first, one line at a time, in the table's order."""
    rows = entity_table_rows(filters=filters, entity_type=entity_type, ordering=ordering)
    yield from csv_lines([entity_export_header(entity_type)])
    yield from csv_lines([row[key] for key, _header in ENTITY_EXPORT_COLUMNS] for row in rows)


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
