"""Drill-down from one entity: who it is related to on another dimension, and the contracts
of one pair (a contractor and the procuring entity that awards it, say).

The entity takes the place of the chips of its own dimension (drilling into a contractor
shows that contractor, whichever contractors were chosen), and the other chips stay: so the
drill-down selects contracts exactly as search does, through the same filters.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from django.db.models import Count, Sum

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
    matching = filter_contracts(pinned(filters, source, name)).order_by()
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
    if on_progress is not None:
        on_progress(1, 1, "Ranked related entities")
    return {
        "dimension": dimension,
        "name": name,
        "target": target,
        "count": summary["count"],
        "total_amount": money(summary["total"] or 0),
        "related_count": summary["related"],
        "results": [
            {
                "name": names.get(row[related.column], ""),
                "count": row["count"],
                "total_amount": money(row["total"]),
            }
            for row in top
        ],
    }


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
