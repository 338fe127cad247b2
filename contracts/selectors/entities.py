"""The per-entity table: one row per contractor (area, organization, category) with totals.

Grouped on the integer foreign key, from the columnar snapshot when one is at hand, else in
the database; paginated before names are attached, unless the table is ordered by name (the
CSV export reads every row with its name). Names sort as people read them:
case-insensitively (upper case, then code-point order, the same in both engines), ties
broken by id so that pages never overlap; the CSV is in the same order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import duckdb
from django.db.models import Avg, Count, F, Max, Min, OrderBy, QuerySet, Sum
from django.db.models.functions import Upper

from ..columnar import columnar_or_database
from ..columnar.sql import entity_names, matching_statement
from ..entities import BY_KEY, Entity
from ..exceptions import InvalidQueryError
from ..filters import ContractFilters, filter_contracts
from .formatting import in_code_points, iso, money, order_by_clause, pagination

ProgressCallback = Callable[[int, int, str], None]

ENTITY_TYPES: tuple[str, ...] = tuple(BY_KEY)
# Rows per round trip of the database's server-side cursor, for the whole table.
ROWS_PER_FETCH = 2000

ENTITY_ORDERINGS = (
    "name",
    "contract_count",
    "total_amount",
    "average_amount",
    "first_award_date",
    "last_award_date",
)


def entity_table(
    *,
    filters: ContractFilters,
    entity_type: str,
    page: int = 1,
    page_size: int = 20,
    ordering: str = "-total_amount",
    on_progress: ProgressCallback | None = None,
) -> dict[str, Any]:
    report = on_progress or (lambda done, total, message: None)
    wanted = _wanted(filters, entity_type, ordering, page=page, page_size=page_size)
    total_count, rows = columnar_or_database(
        lambda cursor: _rows_columnar(cursor, wanted, report),
        lambda: _rows_from_database(wanted, report),
    )
    return {
        "entity_type": entity_type,
        "results": [_formatted(row) for row in rows],
        "pagination": pagination(page=page, page_size=page_size, total_count=total_count),
    }


def entity_table_rows(
    *, filters: ContractFilters, entity_type: str, ordering: str = "-total_amount"
) -> Iterable[dict[str, Any]]:
    """Every row of the entity table, in its order and formatted as its pages are (for the CSV).

    An export writes the current data: only the current version's snapshot answers, else the
    database (as for the export's row count, ``totals.matching_entity_count``). From the
    snapshot the rows are read at once: one per entity, so thousands, not millions, and no
    snapshot stays held while a slow client downloads them. From the database they come
    through a server-side cursor, as the client reads them.
    """
    wanted = _wanted(filters, entity_type, ordering)
    rows = columnar_or_database(
        lambda cursor: _every_row_columnar(cursor, wanted),
        lambda: _every_row_from_database(wanted),
        current_only=True,
    )
    return (_formatted(row) for row in rows)


@dataclass(frozen=True)
class _Wanted:
    """One entity table, as asked: a page of it, or all of it (page_size None)."""

    filters: ContractFilters
    entity: Entity
    field: str
    descending: bool
    page: int = 1
    page_size: int | None = None

    @property
    def offset(self) -> int:
        return (self.page - 1) * (self.page_size or 0)


def _wanted(filters: ContractFilters, entity_type: str, ordering: str, **page: int) -> _Wanted:
    entity = BY_KEY.get(entity_type)
    if entity is None:
        raise InvalidQueryError(
            f"Unknown entity type {entity_type!r}.",
            errors={"entity_type": [f"Must be one of {', '.join(ENTITY_TYPES)}."]},
        )
    field, descending = order_by_clause(ordering, ENTITY_ORDERINGS)
    return _Wanted(filters, entity, field, descending, **page)


def _formatted(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": row["name"],
        "contract_count": row["contract_count"],
        "total_amount": money(row["total_amount"]),
        "average_amount": money(row["average_amount"]),
        "first_award_date": iso(row["first_award_date"]),
        "last_award_date": iso(row["last_award_date"]),
    }


# A page: (number of entities, rows with name, contract_count, total/average amount, dates).
Page = tuple[int, list[dict[str, Any]]]

_COLUMNAR_ORDER = {  # {p}: the relation's prefix
    "name": "{p}uname",
    "contract_count": "{p}n",
    "total_amount": "{p}cents",
    "average_amount": "{p}cents / {p}n",
    "first_award_date": "{p}first_date",
    "last_award_date": "{p}last_date",
}


def _grouped_columnar(wanted: _Wanted, relation: str, *, named: bool) -> str:
    """One row per entity of the matching contracts; with its name (and the upper-case name
    the table sorts by) when ``named``."""
    entity = wanted.entity
    grouped = (
        f"SELECT {entity.column} AS id, count(*) AS n, sum(cents) AS cents, "
        f"min(award_date) AS first_date, max(award_date) AS last_date "
        f"FROM {relation} WHERE {entity.column} IS NOT NULL GROUP BY 1"
    )
    if named:
        grouped = f"SELECT g.*, e.name, e.uname FROM ({grouped}) AS g JOIN {entity.key} AS e ON e.id = g.id"
    return grouped


def _order_columnar(wanted: _Wanted, of: str) -> str:
    """The table's order over a relation of grouped rows (``of``: its prefix); ties by id."""
    direction = "DESC" if wanted.descending else "ASC"
    return f"{_COLUMNAR_ORDER[wanted.field].format(p=of)} {direction}, {of}id"


def _from_cents(row: tuple[Any, ...], name: str) -> dict[str, Any]:
    """A row of the columnar statements below (id, n, cents, first and last date, …), named."""
    _pk, n, cents, first, last = row[:5]
    return {
        "name": name,
        "contract_count": n,
        "total_amount": Decimal(cents) / 100,
        "average_amount": Decimal(cents) / (n * 100),
        "first_award_date": first,
        "last_award_date": last,
    }


def _rows_columnar(cursor: duckdb.DuckDBPyConnection, wanted: _Wanted, report: ProgressCallback) -> Page:
    entity = wanted.entity
    matching = matching_statement(cursor, wanted.filters, reused=False)
    # The page is chosen by name: only then does every group need its name.
    grouped = _grouped_columnar(wanted, matching.relation, named=wanted.field == "name")
    # The page and the number of groups in one statement (one round of planning/scheduling,
    # one scan of the matches); the page's names come after, from the snapshot's memory.
    found = cursor.execute(
        f"{matching.with_clause}SELECT p.id, p.n, p.cents, p.first_date, p.last_date, p.total FROM ("
        f"  SELECT *, count(*) OVER () AS total FROM ({grouped}) "
        f"  ORDER BY {_order_columnar(wanted, '')} LIMIT ? OFFSET ?"
        f") AS p ORDER BY {_order_columnar(wanted, 'p.')}",
        [*matching.params, wanted.page_size, wanted.offset],
    ).fetchall()
    if found:
        total_count = found[0][-1]
    elif wanted.offset == 0:  # no group at all
        total_count = 0
    else:  # a page past the end has no row to carry the count: count on its own
        total_count = cursor.execute(
            f"{matching.with_clause}SELECT count(*) FROM ({grouped})", matching.params
        ).fetchone()[0]
    report(2, 2, f"Fetched a page of {total_count} {entity.key} groups")
    names = entity_names(cursor, {entity.key: {row[0] for row in found}})[entity.key]
    return total_count, [_from_cents(row, names[row[0]]) for row in found]


def _every_row_columnar(cursor: duckdb.DuckDBPyConnection, wanted: _Wanted) -> Iterator[dict[str, Any]]:
    matching = matching_statement(cursor, wanted.filters, reused=False)
    grouped = _grouped_columnar(wanted, matching.relation, named=True)
    found = cursor.execute(
        f"{matching.with_clause}SELECT id, n, cents, first_date, last_date, name FROM ({grouped}) "
        f"ORDER BY {_order_columnar(wanted, '')}",
        matching.params,
    ).fetchall()
    # Tuples, made into rows one at a time as they are written: 39 MB at the peak for 128k
    # contractors (5.5M contracts), where a list of rows took 102 MB.
    return (_from_cents(row, row[5]) for row in found)


def _grouped_in_database(wanted: _Wanted, *, named: bool = False) -> QuerySet:
    """One row per entity of the matching contracts, keyed by the entity's id column; with
    its name (as ``<key>__name``) when ``named``."""
    key = wanted.entity.column
    name = [f"{wanted.entity.key}__name"] if named else []
    return (
        filter_contracts(wanted.filters)
        .order_by()
        .filter(**{f"{key}__isnull": False})  # a contract without an area is no area's
        .values(key, *name)
        .annotate(
            contract_count=Count("id"),
            total_amount=Sum("amount"),
            average_amount=Avg("amount"),
            first_award_date=Min("award_date"),
            last_award_date=Max("award_date"),
        )
    )


def _order_in_database(wanted: _Wanted) -> tuple[OrderBy, str]:
    """The table's order, as the columnar engine sorts it (names by code point); ties by id."""
    name = f"{wanted.entity.key}__name"
    sort = in_code_points(Upper(name)) if wanted.field == "name" else F(wanted.field)
    primary = sort.desc(nulls_last=True) if wanted.descending else sort.asc(nulls_last=True)
    return primary, wanted.entity.column


def _rows_from_database(wanted: _Wanted, report: ProgressCallback) -> Page:
    entity, key = wanted.entity, wanted.entity.column
    steps = 3
    groups = _grouped_in_database(wanted)
    # COUNT(*) over the grouped subquery: the number of entities, not of contracts.
    total_count = groups.count()
    report(1, steps, f"Counted {total_count} {entity.key} groups")

    rows: list[dict[str, Any]] = []
    if wanted.offset < total_count:
        end = wanted.offset + (wanted.page_size or total_count)
        rows = list(groups.order_by(*_order_in_database(wanted))[wanted.offset : end])
    report(2, steps, "Fetched the page")

    names = dict(entity.model.objects.filter(id__in=[row[key] for row in rows]).values_list("id", "name"))
    report(3, steps, "Resolved entity names")
    return total_count, [{**row, "name": names.get(row[key], "")} for row in rows]


def _every_row_from_database(wanted: _Wanted) -> Iterator[dict[str, Any]]:
    groups = _grouped_in_database(wanted, named=True).order_by(*_order_in_database(wanted))
    name = f"{wanted.entity.key}__name"
    return ({**row, "name": row[name]} for row in groups.iterator(chunk_size=ROWS_PER_FETCH))
