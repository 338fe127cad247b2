"""Aggregates for the charts: a summary, totals by year and month, and the top entities.

From the columnar snapshot when one of the current dataset version is at hand: one grouping
query per chart over the matching rows, integer centavos summed exactly. Otherwise from the
database: on PostgreSQL everything comes from ONE pass over the filtered rows (GROUP BY GROUPING SETS),
with a window function keeping only the top N rows of each entity grouping; the names of
those few entities are then looked up per entity table. Other databases (SQLite, the
zero-setup default) have no grouping sets, so they get one query per grouping instead.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import duckdb
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Max, Min, Sum
from django.db.models.functions import ExtractMonth, ExtractYear

from ..columnar import columnar_or_database
from ..columnar.sql import entity_names, matching_statement
from ..entities import ENTITIES, Entity
from ..filters import ContractFilters, filter_contracts
from .formatting import iso, money

ProgressCallback = Callable[[int, int, str], None]


def top_key(entity: Entity) -> str:
    """The result list an entity's ranking fills: "top_contractors"."""
    return f"top_{entity.chip}"


# Columns of the grouping-sets query, in the order GROUPING() reports them (leftmost = high bit).
# Years are summed from months in Python: one grouping (and one hash table) fewer.
_GROUP_COLUMNS = ("mon", *(e.column for e in ENTITIES))


def _grouping_id(column: str | None) -> int:
    """The value GROUPING(yr, mon, ...) takes on the rows grouped by `column` (None: the total).

    A bit is 1 where a column is *not* grouped in that row's grouping set.
    """
    bits = 0
    for position, name in enumerate(_GROUP_COLUMNS):
        if name != column:
            bits |= 1 << (len(_GROUP_COLUMNS) - 1 - position)
    return bits


def contract_aggregates(
    *, filters: ContractFilters, top_n: int = 10, on_progress: ProgressCallback | None = None
) -> dict[str, Any]:
    report = on_progress or (lambda done, total, message: None)
    return columnar_or_database(
        lambda cursor: _aggregates_columnar(cursor, filters, top_n, report),
        lambda: aggregates_from_database(filters, top_n, report),
    )


def aggregates_from_database(
    filters: ContractFilters, top_n: int, report: ProgressCallback
) -> dict[str, Any]:
    """The same answer computed by the database (no snapshot at hand, or to check one)."""
    if connection.vendor == "postgresql":
        return _aggregates_with_grouping_sets(filters, top_n, report)
    return _aggregates_per_grouping(filters, top_n, report)


# --- The columnar snapshot ---------------------------------------------------------------------


def _aggregates_columnar(
    cursor: duckdb.DuckDBPyConnection, filters: ContractFilters, top_n: int, report: ProgressCallback
) -> dict[str, Any]:
    matching = matching_statement(cursor, filters, reused=True)
    relation = matching.relation
    # One statement for the five groupings: DuckDB runs them side by side, and a request
    # pays one round of planning and scheduling instead of five.
    parts = [
        "SELECT 0 AS part, mon AS id, NULL AS name, count(*) AS n, sum(cents) AS cents, "
        f"min(award_date) AS first_date, max(award_date) AS last_date FROM {relation} GROUP BY mon"
    ]
    for part, entity in enumerate(ENTITIES, start=1):
        # Rows with no entity (a contract without an area) are not an entity: never "top".
        parts.append(
            f"SELECT {part}, g.id, NULL, g.n, g.cents, NULL, NULL FROM ("
            f"  SELECT {entity.column} AS id, count(*) AS n, sum(cents) AS cents FROM {relation}"
            f"  WHERE {entity.column} IS NOT NULL GROUP BY 1 ORDER BY cents DESC, id LIMIT ?"
            f") AS g"
        )
    rows = cursor.execute(
        matching.with_clause + " UNION ALL ".join(parts), [*matching.params, *[top_n] * len(ENTITIES)]
    ).fetchall()
    report(1, 2, "Aggregated matching contracts")
    by_part: dict[int, list[tuple]] = {}
    for part, *values in rows:
        by_part.setdefault(part, []).append(tuple(values))
    months = [
        {
            "mon": date(mon // 12, mon % 12 + 1, 1),
            "n": n,
            "total": Decimal(cents) / 100,
            "first": first,
            "last": last,
        }
        for mon, _, n, cents, first, last in by_part.get(0, [])
    ]
    result: dict[str, Any] = {
        "summary": _summary(
            count=sum(m["n"] for m in months),
            total=sum((m["total"] for m in months), Decimal(0)) if months else None,
            first=min((m["first"] for m in months), default=None),
            last=max((m["last"] for m in months), default=None),
        ),
        **_by_year_and_month(months),
    }
    # The few top entities' names, not a join of every grouping to its whole name table.
    names = entity_names(
        cursor,
        {entity.key: {row[0] for row in by_part.get(part, [])} for part, entity in enumerate(ENTITIES, 1)},
    )
    for part, entity in enumerate(ENTITIES, start=1):
        ranked = sorted(by_part.get(part, []), key=lambda row: (-row[3], row[0]))
        result[top_key(entity)] = [
            {"name": names[entity.key][pk], "count": n, "total_amount": money(Decimal(cents) / 100)}
            for pk, _, n, cents, _, _ in ranked
        ]
    report(2, 2, "Ranked entities")
    return result


# --- PostgreSQL: one pass ----------------------------------------------------------------------


def _aggregates_with_grouping_sets(
    filters: ContractFilters, top_n: int, report: ProgressCallback
) -> dict[str, Any]:
    steps = 2
    inner_sql, params = (
        filter_contracts(filters)
        .order_by()
        .values("amount", "award_date", *(e.column for e in ENTITIES))
        .query.sql_with_params()
    )
    entity_columns = ", ".join(e.column for e in ENTITIES)
    entity_sets = ", ".join(f"({e.column})" for e in ENTITIES)
    kept = ", ".join(str(_grouping_id(c)) for c in ("mon", None))
    # Rows with no entity (a contract without an area) are not an entity: never "top".
    # Amounts are summed as bigint centavos (six SUM(numeric) accumulators per row cost about
    # a quarter more) and the month is found by date arithmetic (date_trunc goes through
    # timestamptz): together a third faster on a million rows.
    sql = f"""
        WITH filtered AS (
            SELECT (amount * 100)::bigint AS cents, award_date,
                   award_date - (EXTRACT(DAY FROM award_date)::int - 1) AS mon,
                   {entity_columns}
            FROM ({inner_sql}) AS matching
        ),
        grouped AS (
            SELECT GROUPING({", ".join(_GROUP_COLUMNS)}) AS gid, mon, {entity_columns},
                   COUNT(*) AS n, SUM(cents) / 100.0 AS total,
                   MIN(award_date) AS first_date, MAX(award_date) AS last_date
            FROM filtered
            GROUP BY GROUPING SETS ((mon), {entity_sets}, ())
        ),
        ranked AS (
            SELECT grouped.*,
                   ROW_NUMBER() OVER (
                       PARTITION BY gid
                       ORDER BY total DESC, COALESCE({entity_columns})
                   ) AS rank
            FROM grouped
            WHERE gid IN ({kept}) OR COALESCE({entity_columns}) IS NOT NULL
        )
        SELECT gid, mon, {entity_columns}, n, total, first_date, last_date
        FROM ranked
        WHERE gid IN ({kept}) OR rank <= %s
    """
    # Six hash tables over every matching row: with the default 4 MB of work_mem they spill
    # to disk and the query runs ~2.5x slower on a million rows. SET LOCAL ends with the
    # transaction, so only this query gets the extra memory.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT set_config('work_mem', %s, true)", [settings.ANALYTICS_WORK_MEM])
        cursor.execute(sql, (*params, top_n))
        columns = [col.name for col in cursor.description]
        rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    report(1, steps, "Aggregated matching contracts")

    by_grouping: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        by_grouping.setdefault(row["gid"], []).append(row)

    total_row = next(iter(by_grouping.get(_grouping_id(None), [])), {})
    result: dict[str, Any] = {
        "summary": _summary(
            count=total_row.get("n", 0),
            total=total_row.get("total"),
            first=total_row.get("first_date"),
            last=total_row.get("last_date"),
        ),
        **_by_year_and_month(by_grouping.get(_grouping_id("mon"), [])),
    }
    for entity in ENTITIES:
        top = by_grouping.get(_grouping_id(entity.column), [])
        top.sort(key=lambda r, col=entity.column: (-r["total"], r[col]))
        result[top_key(entity)] = _named_totals(entity, top, count="n", total="total")
    report(2, steps, "Resolved entity names")
    return result


def _month_key(month: date) -> str:
    """ "YYYY-MM" for any year: strftime's %Y leaves years before 1000 unpadded ("1-01")."""
    return f"{month.year:04d}-{month.month:02d}"


def _by_year_and_month(month_rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Totals by month (first day of each month from SQL) and by year, summed exactly from them."""
    months = sorted(month_rows, key=lambda r: r["mon"])
    years: dict[int, list[Any]] = {}
    for row in months:
        count_total = years.setdefault(row["mon"].year, [0, Decimal(0)])
        count_total[0] += row["n"]
        count_total[1] += row["total"]
    return {
        "by_year": [
            {"year": year, "count": count, "total_amount": money(total)}
            for year, (count, total) in years.items()
        ],
        "by_month": [
            {"month": _month_key(row["mon"]), "count": row["n"], "total_amount": money(row["total"])}
            for row in months
        ],
    }


def _named_totals(
    entity: Entity, rows: list[dict[str, Any]], *, count: str, total: str
) -> list[dict[str, Any]]:
    """Top-list entries for `rows` (already ranked), names looked up in one small query."""
    ids = [row[entity.column] for row in rows]
    names = dict(entity.model.objects.filter(id__in=ids).values_list("id", "name"))
    return [
        {"name": names.get(row[entity.column], ""), "count": row[count], "total_amount": money(row[total])}
        for row in rows
    ]


# --- Other databases: one query per grouping ---------------------------------------------------


def _aggregates_per_grouping(
    filters: ContractFilters, top_n: int, report: ProgressCallback
) -> dict[str, Any]:
    steps = 3 + len(ENTITIES)
    matching = filter_contracts(filters).order_by()
    totals = {"n": Count("id"), "total": Sum("amount")}

    summary = matching.aggregate(**totals, first=Min("award_date"), last=Max("award_date"))
    result: dict[str, Any] = {
        "summary": _summary(
            count=summary["n"], total=summary["total"], first=summary["first"], last=summary["last"]
        )
    }
    report(1, steps, "Summarised matching contracts")

    years = matching.annotate(yr=ExtractYear("award_date")).values("yr").annotate(**totals).order_by("yr")
    result["by_year"] = [
        {"year": row["yr"], "count": row["n"], "total_amount": money(row["total"])} for row in years
    ]
    report(2, steps, "Totalled by year")

    months = (
        matching.annotate(yr=ExtractYear("award_date"), mo=ExtractMonth("award_date"))
        .values("yr", "mo")
        .annotate(**totals)
        .order_by("yr", "mo")
    )
    result["by_month"] = [
        {"month": f"{row['yr']:04d}-{row['mo']:02d}", "count": row["n"], "total_amount": money(row["total"])}
        for row in months
    ]
    report(3, steps, "Totalled by month")

    for done, entity in enumerate(ENTITIES, start=4):
        top = (
            matching.exclude(**{f"{entity.column}__isnull": True})
            .values(entity.column)
            .annotate(**totals)
            .order_by("-total", entity.column)[:top_n]
        )
        result[top_key(entity)] = _named_totals(entity, list(top), count="n", total="total")
        report(done, steps, f"Ranked {entity.chip.replace('_', ' ')}")
    return result


def _summary(*, count: int, total: Decimal | None, first: Any, last: Any) -> dict[str, Any]:
    return {
        "count": count,
        "total_amount": money(total or 0),
        "average_amount": money(total / count) if count and total is not None else None,
        "first_award_date": iso(first),
        "last_award_date": iso(last),
    }
