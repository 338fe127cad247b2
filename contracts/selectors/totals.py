"""How many contracts (or entities) the chips select and what they add up to: what a saved
search's run records (``saved_searches.services.run_changes``) and what an export will write
(its estimate, its progress).

A run's watermark is the highest contract id there is, read from the same data as the counts:
a run counts every contract up to it and leaves any committed later to the next run. The
columnar snapshot answers when it holds the current dataset version: a keyword's count is a
scan of every title, which takes PostgreSQL seconds at 5.5M rows. An older version's
snapshot (one still answering while the current one builds) does not: its watermark could
be behind one an earlier run already recorded, and its counts are not the ones an export
of the current data writes, so the database answers then.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import duckdb
from django.db.models import Count, Max, Sum

from ..columnar import columnar_or_database
from ..columnar.sql import matching_contracts
from ..entities import Entity
from ..filters import ContractFilters, filter_contracts
from ..models import Contract

CENTAVO = Decimal("0.01")


@dataclass(frozen=True)
class MatchingTotals:
    watermark: int  # the highest contract id counted (of any contract, matching or not)
    count: int
    total: Decimal
    new_count: int | None  # those above ``since``; None when no ``since`` was given


def matching_totals(*, filters: ContractFilters, since: int | None = None) -> MatchingTotals:
    """The chips' matching contracts up to the newest one: their count, total and, with
    ``since`` (an earlier watermark), how many of them are newer than it."""
    return columnar_or_database(
        lambda cursor: _on_snapshot(cursor, filters, since),
        lambda: _on_database(filters, since),
        current_only=True,
    )


def _on_database(filters: ContractFilters, since: int | None) -> MatchingTotals:
    watermark = Contract.objects.aggregate(highest=Max("id"))["highest"] or 0
    matching = filter_contracts(filters).filter(id__lte=watermark)
    totals = matching.aggregate(count=Count("id"), total=Sum("amount"))
    return MatchingTotals(
        watermark=watermark,
        count=totals["count"],
        total=(totals["total"] or Decimal("0")).quantize(CENTAVO),
        new_count=None if since is None else matching.filter(id__gt=since).count(),
    )


def _on_snapshot(
    cursor: duckdb.DuckDBPyConnection, filters: ContractFilters, since: int | None
) -> MatchingTotals:
    # A snapshot holds one version's contracts, all of them up to its own highest id.
    (watermark,) = cursor.execute("SELECT coalesce(max(id), 0) FROM contracts").fetchone()
    source, where, params = matching_contracts(cursor, filters)
    count, cents, new_count = cursor.execute(
        f"SELECT count(*), coalesce(sum(cents), 0), count(*) FILTER (WHERE contracts.id > ?) "
        f"FROM {source} WHERE {where}",
        [watermark if since is None else since, *params],
    ).fetchone()
    return MatchingTotals(
        watermark=watermark,
        count=count,
        total=(Decimal(cents) / 100).quantize(CENTAVO),
        new_count=None if since is None else new_count,
    )


def matching_count(*, filters: ContractFilters) -> int:
    """How many contracts the chips select: the rows of their export."""

    def on_snapshot(cursor: duckdb.DuckDBPyConnection) -> int:
        source, where, params = matching_contracts(cursor, filters)
        return cursor.execute(f"SELECT count(*) FROM {source} WHERE {where}", params).fetchone()[0]

    return columnar_or_database(on_snapshot, lambda: filter_contracts(filters).count(), current_only=True)


def matching_entity_count(*, filters: ContractFilters, entity: Entity) -> int:
    """How many entities of one kind the chips' contracts name: the rows of the entity
    table's export (a contract with no area is no area's)."""

    def on_snapshot(cursor: duckdb.DuckDBPyConnection) -> int:
        source, where, params = matching_contracts(cursor, filters)
        statement = f"SELECT count(DISTINCT contracts.{entity.column}) FROM {source} WHERE {where}"
        return cursor.execute(statement, params).fetchone()[0]

    def on_database() -> int:
        matching = filter_contracts(filters).filter(**{f"{entity.column}__isnull": False})
        return matching.order_by().values(entity.column).distinct().count()

    return columnar_or_database(on_snapshot, on_database, current_only=True)
