"""Drill-down from one entity: who it is related to on another dimension, and the contracts
of one pair (a contractor and the procuring entity that awards it, say).

The entity takes the place of the chips of its own dimension (drilling into a contractor
shows that contractor, whichever contractors were chosen), and the other chips stay: so the
drill-down selects contracts exactly as search does, through the same filters, and like
search it reads the columnar snapshot when one is at hand, else the database.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

import duckdb
from django.db.models import Count, Sum

from ..columnar import columnar_or_database
from ..columnar.sql import entity_names, matching_statement
from ..entities import BY_KEY, Entity
from ..exceptions import InvalidQueryError
from ..filters import ContractFilters, filter_contracts
from .search import contract_search, money

ProgressCallback = Callable[[int, int, str], None]
DIMENSIONS = tuple(BY_KEY)


def _entity(key: str, field: str) -> Entity:
    if key not in BY_KEY:
        raise InvalidQueryError(
            f"Unknown dimension {key!r}.", errors={field: [f"Must be one of {', '.join(BY_KEY)}."]}
        )
    return BY_KEY[key]


def pinned(filters: ContractFilters, entity: Entity, name: str) -> ContractFilters:
    """``filters`` with the chips of ``entity``'s dimension replaced by ``name``."""
    return replace(filters, **{entity.chip: (name,)})


def _pair(dimension: str, target: str) -> tuple[Entity, Entity]:
    source, related = _entity(dimension, "dimension"), _entity(target, "target")
    if source == related:
        raise InvalidQueryError(
            "The target dimension must differ from the entity's.",
            errors={"target": ["Must differ from dimension."]},
        )
    return source, related


def related_entities(
    *,
    filters: ContractFilters,
    dimension: str,
    name: str,
    target: str,
    top_n: int = 10,
    on_progress: ProgressCallback | None = None,
) -> dict[str, Any]:
    """The entity's own totals under the chips, and its top ``top_n`` related entities on
    ``target`` by total value (count and total each; ties by id)."""
    source, related = _pair(dimension, target)
    chosen = pinned(filters, source, name)
    summary, top = columnar_or_database(
        lambda cursor: _related_columnar(cursor, chosen, related, top_n),
        lambda: _related_from_database(chosen, related, top_n),
    )
    if on_progress is not None:
        on_progress(1, 1, "Ranked related entities")
    return {
        "dimension": dimension,
        "name": name,
        "target": target,
        "count": summary.count,
        "total_amount": money(summary.total),
        "related_count": summary.related,
        "results": [{"name": row.name, "count": row.count, "total_amount": money(row.total)} for row in top],
    }


@dataclass(frozen=True)
class _Totals:
    """A count of contracts and their total value; ``related``: how many related entities."""

    count: int
    total: Decimal
    related: int = 0
    name: str = ""


def _related_columnar(
    cursor: duckdb.DuckDBPyConnection, filters: ContractFilters, related: Entity, top_n: int
) -> tuple[_Totals, list[_Totals]]:
    column = related.column
    matching = matching_statement(cursor, filters, columns=("cents", column), reused=True)
    # Totals and the top groups in one statement over the matches kept once.
    count, cents, related_count, top = cursor.execute(
        f"{matching.with_clause}SELECT count(*), coalesce(sum(cents), 0), count(DISTINCT {column}), "
        f"(SELECT list([id, n, c] ORDER BY c DESC, id) FROM ("
        f"  SELECT {column} AS id, count(*) AS n, sum(cents) AS c FROM {matching.relation} "
        f"  WHERE {column} IS NOT NULL GROUP BY 1 ORDER BY c DESC, id LIMIT ?)) "
        f"FROM {matching.relation}",
        [*matching.params, top_n],
    ).fetchone()
    names = entity_names(cursor, {related.key: {pk for pk, _n, _c in top or []}})[related.key]
    summary = _Totals(count, Decimal(cents) / 100, related_count)
    return summary, [_Totals(n, Decimal(c) / 100, name=names[pk]) for pk, n, c in top or []]


def _related_from_database(
    filters: ContractFilters, related: Entity, top_n: int
) -> tuple[_Totals, list[_Totals]]:
    matching = filter_contracts(filters).order_by()
    summary = matching.aggregate(
        count=Count("id"), total=Sum("amount"), related=Count(related.column, distinct=True)
    )
    top = list(
        matching.filter(**{f"{related.column}__isnull": False})
        .values(related.column)
        .annotate(count=Count("id"), total=Sum("amount"))
        .order_by("-total", related.column)[:top_n]
    )
    names = dict(
        related.model.objects.filter(id__in=[row[related.column] for row in top]).values_list("id", "name")
    )
    totals = _Totals(summary["count"], summary["total"] or Decimal(0), summary["related"])
    return totals, [
        _Totals(row["count"], row["total"], name=names.get(row[related.column], "")) for row in top
    ]


def related_contracts(
    *,
    filters: ContractFilters,
    dimension: str,
    name: str,
    target: str,
    target_name: str,
    page: int = 1,
    page_size: int = 20,
    ordering: str = "-award_date",
    on_progress: ProgressCallback | None = None,
) -> dict[str, Any]:
    """One page of the contracts between the two named entities, under the chips (as search)."""
    source, related = _pair(dimension, target)
    both = pinned(pinned(filters, source, name), related, target_name)
    return contract_search(filters=both, page=page, page_size=page_size, ordering=ordering)
