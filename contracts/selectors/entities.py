"""The per-entity table: one row per contractor (area, organization, category) with totals.

Grouped on the integer foreign key, from the columnar snapshot when one is at hand, else in
the database; paginated before names are attached, unless the table is ordered by name.
Names sort as people read them: case-insensitively (upper case, then code-point order, the
same in both engines), ties broken by id so that pages never overlap.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import duckdb
from django.db.models import Avg, Count, F, Max, Min, Sum
from django.db.models.functions import Upper

from ..columnar import columnar_or_database
from ..columnar.sql import entity_names, matching_statement
from ..entities import BY_KEY, Entity
from ..exceptions import InvalidQueryError
from ..filters import ContractFilters, filter_contracts
from .formatting import in_code_points, iso, money, order_by_clause, pagination

ProgressCallback = Callable[[int, int, str], None]

ENTITY_TYPES: tuple[str, ...] = tuple(BY_KEY)

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
    entity = BY_KEY.get(entity_type)
    if entity is None:
        raise InvalidQueryError(
            f"Unknown entity type {entity_type!r}.",
            errors={"entity_type": [f"Must be one of {', '.join(ENTITY_TYPES)}."]},
        )
    field, descending = order_by_clause(ordering, ENTITY_ORDERINGS)
    wanted = _Wanted(filters, entity, field, descending, page, page_size)
    total_count, rows = columnar_or_database(
        lambda cursor: _rows_columnar(cursor, wanted, report),
        lambda: _rows_from_database(wanted, report),
    )
    return {
        "entity_type": entity_type,
        "results": [
            {
                "name": row["name"],
                "contract_count": row["contract_count"],
                "total_amount": money(row["total_amount"]),
                "average_amount": money(row["average_amount"]),
                "first_award_date": iso(row["first_award_date"]),
                "last_award_date": iso(row["last_award_date"]),
            }
            for row in rows
        ],
        "pagination": pagination(page=page, page_size=page_size, total_count=total_count),
    }


@dataclass(frozen=True)
class _Wanted:
    """One page of one entity table, as asked."""

    filters: ContractFilters
    entity: Entity
    field: str
    descending: bool
    page: int
    page_size: int

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size


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


def _rows_columnar(cursor: duckdb.DuckDBPyConnection, wanted: _Wanted, report: ProgressCallback) -> Page:
    entity = wanted.entity
    matching = matching_statement(cursor, wanted.filters, reused=False)
    direction = "DESC" if wanted.descending else "ASC"
    grouped = (
        f"SELECT {entity.column} AS id, count(*) AS n, sum(cents) AS cents, "
        f"min(award_date) AS first_date, max(award_date) AS last_date "
        f"FROM {matching.relation} WHERE {entity.column} IS NOT NULL GROUP BY 1"
    )
    if wanted.field == "name":  # the page is chosen by name: every group needs its name
        grouped = f"SELECT g.*, e.uname FROM ({grouped}) AS g JOIN {entity.key} AS e ON e.id = g.id"

    def order(of: str) -> str:
        return f"{_COLUMNAR_ORDER[wanted.field].format(p=of)} {direction}, {of}id"

    # The page and the number of groups in one statement (one round of planning/scheduling,
    # one scan of the matches); the page's names come after, from the snapshot's memory.
    found = cursor.execute(
        f"{matching.with_clause}SELECT p.id, p.n, p.cents, p.first_date, p.last_date, p.total FROM ("
        f"  SELECT *, count(*) OVER () AS total FROM ({grouped}) ORDER BY {order('')} LIMIT ? OFFSET ?"
        f") AS p ORDER BY {order('p.')}",
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
    return total_count, [
        {
            "name": names[pk],
            "contract_count": n,
            "total_amount": Decimal(cents) / 100,
            "average_amount": Decimal(cents) / (n * 100),
            "first_award_date": first,
            "last_award_date": last,
        }
        for pk, n, cents, first, last, _ in found
    ]


def _rows_from_database(wanted: _Wanted, report: ProgressCallback) -> Page:
    entity, key = wanted.entity, wanted.entity.column
    steps = 3
    groups = (
        filter_contracts(wanted.filters)
        .order_by()
        .filter(**{f"{key}__isnull": False})  # a contract without an area is no area's
        .values(key)
        .annotate(
            contract_count=Count("id"),
            total_amount=Sum("amount"),
            average_amount=Avg("amount"),
            first_award_date=Min("award_date"),
            last_award_date=Max("award_date"),
        )
    )
    # COUNT(*) over the grouped subquery: the number of entities, not of contracts.
    total_count = groups.count()
    report(1, steps, f"Counted {total_count} {entity.key} groups")

    rows: list[dict[str, Any]] = []
    if wanted.offset < total_count:
        sort = in_code_points(Upper(f"{entity.key}__name")) if wanted.field == "name" else F(wanted.field)
        primary = sort.desc(nulls_last=True) if wanted.descending else sort.asc(nulls_last=True)
        rows = list(groups.order_by(primary, key)[wanted.offset : wanted.offset + wanted.page_size])
    report(2, steps, "Fetched the page")

    names = dict(entity.model.objects.filter(id__in=[row[key] for row in rows]).values_list("id", "name"))
    report(3, steps, "Resolved entity names")
    return total_count, [{**row, "name": names.get(row[key], "")} for row in rows]
