"""Every matching contract as a row of the contract export, oldest award first (ties by id).

An export writes the current data, so only the current version's snapshot answers, else the
database through a server-side cursor. The snapshot's rows come in batches of whole award
days, each sorted by DuckDB on its own: one statement sorting every match with its titles
and names would need more than the engine's memory limit at a few million rows (it ran out
of 512 MB at 5.5M), where a batch of ``ROWS_PER_BATCH`` needs a few tens of MB. Each batch
reads the chips again, restricted to its days; a day is never split, so ties stay in id
order across batches. Rows hold what the database's ``values_list`` holds (dates, Decimal
amounts, None for a missing name or budget), so the CSV is the same, byte for byte. A
snapshot that fails before the first row (out of memory, say) leaves the export to the
database; one that fails later fails the job, as the database would.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import duckdb

from ..columnar import current_snapshot_cursor
from ..columnar.sql import matching_contracts
from ..csv_format import CONTRACT_EXPORT_COLUMNS
from ..entities import BY_KEY
from ..filters import ContractFilters, filter_contracts

logger = logging.getLogger(__name__)

# Rows a snapshot batch holds at most, unless one day has more (a day is never split).
ROWS_PER_BATCH = 200_000
# Rows per round trip: of the database's server-side cursor, and fetched from a batch.
ROWS_PER_FETCH = 2000

# How the snapshot spells each export column ("contractor__name" is the contractor's name).
_SNAPSHOT_COLUMNS = {
    "reference_id": "m.reference_id",
    "award_date": "m.award_date",
    "title": "m.title",
    "procurement_mode": "m.procurement_mode",
    "classification": "m.classification",
    "approved_budget": "m.budget_cents",
    "amount": "m.cents",
    **{f"{key}__name": f"{key}.name" for key in BY_KEY},
}
# Centavos to what the database gives: a Decimal with two places.
_CENTS = {"approved_budget", "amount"}


def contract_export_rows(*, filters: ContractFilters) -> Iterator[tuple[Any, ...]]:
    """The export's rows, in ``CONTRACT_EXPORT_COLUMNS`` order; read as they are written."""
    with current_snapshot_cursor() as cursor:
        if cursor is not None:
            try:
                batches = _Batches.planned(cursor, filters)
            except duckdb.Error:  # e.g. out of memory under COLUMNAR_MEMORY_LIMIT
                logger.exception("columnar export failed before its first row; the database writes it")
            else:
                yield from batches.rows()
                return
    paths = [path for path, _header in CONTRACT_EXPORT_COLUMNS]
    rows = filter_contracts(filters).order_by("award_date", "id").values_list(*paths)
    yield from rows.iterator(chunk_size=ROWS_PER_FETCH)


@dataclass(frozen=True)
class _Batches:
    """The snapshot's matching contracts, as batches of whole award days."""

    cursor: duckdb.DuckDBPyConnection
    matching: str  # FROM … WHERE … of the matching contracts
    params: list[Any]
    days: list[tuple[dt.date, dt.date]]  # (first, last) day of each batch

    @classmethod
    def planned(cls, cursor: duckdb.DuckDBPyConnection, filters: ContractFilters) -> _Batches:
        source, where, params = matching_contracts(cursor, filters)
        matching = f"FROM {source} WHERE ({where})"  # a batch adds its days with AND
        per_day = cursor.execute(
            f"SELECT award_date, count(*) {matching} GROUP BY award_date ORDER BY award_date", params
        ).fetchall()
        return cls(cursor, matching, params, list(day_batches(per_day, ROWS_PER_BATCH)))

    def rows(self) -> Iterator[tuple[Any, ...]]:
        columns = ", ".join(_SNAPSHOT_COLUMNS[path] for path, _header in CONTRACT_EXPORT_COLUMNS)
        names = " ".join(f"LEFT JOIN {key} ON {key}.id = m.{entity.column}" for key, entity in BY_KEY.items())
        cents = [n for n, (path, _header) in enumerate(CONTRACT_EXPORT_COLUMNS) if path in _CENTS]
        for first, last in self.days:
            batch = self.cursor.execute(
                f"SELECT {columns} FROM (SELECT contracts.* {self.matching} AND award_date BETWEEN ? AND ?) "
                f"AS m {names} ORDER BY m.award_date, m.id",
                [*self.params, first, last],
            )
            while found := batch.fetchmany(ROWS_PER_FETCH):
                for row in found:
                    values = list(row)
                    for n in cents:
                        if values[n] is not None:
                            values[n] = Decimal(values[n]).scaleb(-2)
                    yield tuple(values)


def day_batches(days: list[tuple[dt.date, int]], most: int) -> Iterator[tuple[dt.date, dt.date]]:
    """(first, last) day of each batch: consecutive days, in order, together holding at most
    ``most`` rows, or one day alone when it holds more."""
    first = previous = None
    held = 0
    for day, count in days:
        if first is not None and held + count > most:
            yield first, previous
            first, held = None, 0
        if first is None:
            first = day
        previous, held = day, held + count
    if first is not None:
        yield first, previous
