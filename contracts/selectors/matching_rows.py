"""The matching rows an analysis reads, in whichever engine holds them.

An analysis writes its SQL once, against a ``Dialect`` (placeholder, modulo and integer
division) and a relation of the matching contracts with a ``cents`` column (integer
centavos) and the foreign keys it asks for; ``on_matching_rows`` runs it on the columnar
snapshot when one is at hand, else on the database, so callers never know which answered.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any, TypeVar

import duckdb
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max, Min

from ..columnar import columnar_or_database
from ..columnar.sql import filtered_relation, matching_contracts
from ..filters import ContractFilters, filter_contracts

T = TypeVar("T")


@dataclass(frozen=True)
class Dialect:
    """The few spellings that differ between the engines the analyses run on."""

    param: str  # a bound parameter's placeholder
    mod: str  # the modulo operator, as written in the SQL text
    div: str  # integer division


# Django's cursor takes %s placeholders, so a literal % is written %%.
DATABASE = Dialect(param="%s", mod="%%", div="/")
# DuckDB's / divides exactly (to a double); // is integer division.
COLUMNAR = Dialect(param="?", mod="%", div="//")

# An analysis's SQL for (dialect, relation): the statement and the parameters that come
# before the relation in it.
SqlBuilder = Callable[[Dialect, str], tuple[str, list[Any]]]


def cents_sql(column: str = "amount") -> str:
    """Integer centavos of a numeric amount, exact on every backend. PostgreSQL's numeric
    amount times 100 is already whole (its cast would round, never truncate); SQLite may hold
    it as a float (12345.67 * 100 = 1234566.9999…), so it is rounded first there."""
    if connection.vendor == "postgresql":
        return f"CAST({column} * 100 AS BIGINT)"
    return f"CAST(ROUND({column} * 100) AS BIGINT)"


def matching_relation(filters: ContractFilters, *columns: str) -> tuple[str, list[Any]]:
    """``(SELECT cents, <columns> FROM <the contracts the chips select>)`` and its parameters."""
    inner, params = filter_contracts(filters).order_by().values("amount", *columns).query.sql_with_params()
    extra = "".join(f", {column}" for column in columns)
    return f"(SELECT {cents_sql()} AS cents{extra} FROM ({inner}) AS matching)", list(params)


class MatchingRows:
    """The contracts the chips select, as one engine holds them."""

    dialect: Dialect

    def rows(self, build: SqlBuilder, *columns: str) -> list[dict[str, Any]]:
        """Run ``build(dialect, relation)``; ``columns`` are the foreign keys it reads."""
        raise NotImplementedError

    def amount_bounds(self, *, positive: bool = False) -> tuple[int | None, int | None]:
        """The smallest and largest amount (only amounts above zero if ``positive``), in centavos."""
        raise NotImplementedError


class DatabaseRows(MatchingRows):
    dialect = DATABASE

    def __init__(self, filters: ContractFilters) -> None:
        self.filters = filters

    def rows(self, build: SqlBuilder, *columns: str) -> list[dict[str, Any]]:
        relation, relation_params = matching_relation(self.filters, *columns)
        sql, params = build(self.dialect, relation)
        return fetch_rows(sql, [*params, *relation_params])

    def amount_bounds(self, *, positive: bool = False) -> tuple[int | None, int | None]:
        # An aggregate of the bare amount column: the amount index answers it at once when
        # no other chip narrows the rows.
        matching = filter_contracts(self.filters).order_by()
        if positive:
            matching = matching.filter(amount__gt=0)
        bounds = matching.aggregate(lo=Min("amount"), hi=Max("amount"))
        lo, hi = bounds["lo"], bounds["hi"]
        return (None if lo is None else int(lo * 100), None if hi is None else int(hi * 100))


class ColumnarRows(MatchingRows):
    """The matching rows of the columnar snapshot.

    A subquery with the chips' predicate, not a temporary table of the matches: an analysis
    scans its rows once or twice, and DuckDB prunes row groups by the predicate itself, which
    halved one area's analyses. Keywords are the exception: scanning every title twice costs
    more than keeping the matches."""

    dialect = COLUMNAR

    def __init__(self, cursor: duckdb.DuckDBPyConnection, filters: ContractFilters) -> None:
        self.cursor = cursor
        if filters.keyword_terms():
            self.relation, self.params = filtered_relation(cursor, filters), []
        else:
            source, where, self.params = matching_contracts(cursor, filters)
            self.relation = f"(SELECT contracts.* FROM {source} WHERE {where})"

    def rows(self, build: SqlBuilder, *columns: str) -> list[dict[str, Any]]:
        sql, params = build(self.dialect, self.relation)
        result = self.cursor.execute(sql, [*params, *self.params])
        names = [column[0] for column in result.description]
        return [dict(zip(names, row, strict=True)) for row in result.fetchall()]

    def amount_bounds(self, *, positive: bool = False) -> tuple[int | None, int | None]:
        where = " WHERE cents > 0" if positive else ""
        lo, hi = self.cursor.execute(
            f"SELECT MIN(cents), MAX(cents) FROM {self.relation} AS f{where}", self.params
        ).fetchone()
        return lo, hi


def on_matching_rows(filters: ContractFilters, analysis: Callable[[MatchingRows], T]) -> T:
    """Run ``analysis`` on the contracts the chips select, columnar snapshot first."""
    return columnar_or_database(
        lambda cursor: analysis(ColumnarRows(cursor, filters)),
        lambda: analysis(DatabaseRows(filters)),
    )


def fetch_rows(sql: str, params: Iterable[Any]) -> list[dict[str, Any]]:
    """Run one analysis statement. On PostgreSQL it gets the analytics work_mem (so grouping
    stays a hash in memory, not a sort spilled to disk: the planner cannot know there are only
    a few hundred bins) and no JIT (compiling costs more than it saves on these one-pass
    queries); SET LOCAL ends with the transaction, so only this statement is affected.
    Elsewhere (SQLite) it needs no transaction, where one would take the write lock."""
    postgresql = connection.vendor == "postgresql"
    with transaction.atomic() if postgresql else nullcontext(), connection.cursor() as cursor:
        if postgresql:
            cursor.execute(
                "SELECT set_config('work_mem', %s, true), set_config('jit', 'off', true)",
                [settings.ANALYTICS_WORK_MEM],
            )
        cursor.execute(sql, list(params))
        columns = [col[0] for col in cursor.description]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
