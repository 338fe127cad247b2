"""The per-entity table: one row per contractor (area, organization, category) with totals.

Grouped on the integer foreign key and paginated in the database; only the page's few
entities are joined to their names (unless the table is ordered by name, which needs them all).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import Avg, Count, F, Max, Min, Sum

from ..exceptions import InvalidQueryError
from ..filters import ContractFilters, filter_contracts
from ..models import Area, BusinessCategory, Contractor, NamedEntity, Organization
from .formatting import iso, money, order_by_clause, pagination

ENTITY_TYPES: dict[str, tuple[str, type[NamedEntity]]] = {
    "contractor": ("contractor", Contractor),
    "area": ("area", Area),
    "organization": ("organization", Organization),
    "business_category": ("business_category", BusinessCategory),
}

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
    on_progress: Callable[[int, int, str], None] | None = None,
) -> dict[str, Any]:
    report = on_progress or (lambda done, total, message: None)
    if entity_type not in ENTITY_TYPES:
        raise InvalidQueryError(
            f"Unknown entity type {entity_type!r}.",
            errors={"entity_type": [f"Must be one of {', '.join(ENTITY_TYPES)}."]},
        )
    relation, model = ENTITY_TYPES[entity_type]
    field, descending = order_by_clause(ordering, ENTITY_ORDERINGS)
    key = f"{relation}_id"
    steps = 3

    groups = (
        filter_contracts(filters)
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
    report(1, steps, f"Counted {total_count} {entity_type} groups")

    offset = (page - 1) * page_size
    rows: list[dict[str, Any]] = []
    if offset < total_count:
        sort_key = f"{relation}__name" if field == "name" else field
        primary = F(sort_key).desc(nulls_last=True) if descending else F(sort_key).asc(nulls_last=True)
        rows = list(groups.order_by(primary, key)[offset : offset + page_size])
    report(2, steps, "Fetched the page")

    names = dict(model.objects.filter(id__in=[row[key] for row in rows]).values_list("id", "name"))
    report(3, steps, "Resolved entity names")
    return {
        "entity_type": entity_type,
        "results": [
            {
                "name": names.get(row[key], ""),
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
