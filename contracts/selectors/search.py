"""Contract search: one page of the contracts the chips select, newest first by default."""

from __future__ import annotations

from typing import Any

from ..filters import ContractFilters, filter_contracts

# iso/money/pagination/order_by_clause were first defined here; other modules may still
# import them from this one.
from .formatting import iso, money, order_by_clause, pagination

__all__ = ["CONTRACT_ORDERINGS", "contract_search", "iso", "money", "order_by_clause", "pagination"]

CONTRACT_ORDERINGS = ("award_date", "amount", "reference_id")

_SEARCH_COLUMNS = (
    "id",
    "reference_id",
    "title",
    "notice_title",
    "amount",
    "award_date",
    "procurement_mode",
    "classification",
    "approved_budget",
    "contractor__name",
    "organization__name",
    "area__name",
    "business_category__name",
)


def contract_search(
    *,
    filters: ContractFilters,
    page: int = 1,
    page_size: int = 20,
    ordering: str = "-award_date",
    id_range: tuple[int, int] | None = None,
) -> dict[str, Any]:
    """One page of matching contracts; ``id_range=(low, high)`` keeps low < id <= high only
    (the contracts added between two moments, as a saved search's "new since last run")."""
    field, descending = order_by_clause(ordering, CONTRACT_ORDERINGS)
    sign = "-" if descending else ""
    # Ties broken by id in the same direction, so "-award_date" walks the (-award_date, -id)
    # index and paging never shows a row twice.
    matching = filter_contracts(filters)
    if id_range is not None:
        matching = matching.filter(id__gt=id_range[0], id__lte=id_range[1])
    total_count = matching.count()
    offset = (page - 1) * page_size
    rows = []
    if offset < total_count:
        rows = list(
            matching.select_related("contractor", "organization", "area", "business_category")
            .only(*_SEARCH_COLUMNS)
            .order_by(f"{sign}{field}", f"{sign}id")[offset : offset + page_size]
        )
    return {
        "results": [_contract_row(contract) for contract in rows],
        "pagination": pagination(page=page, page_size=page_size, total_count=total_count),
    }


def _contract_row(contract: Any) -> dict[str, Any]:
    return {
        "id": contract.id,
        "reference_id": contract.reference_id,
        "title": contract.title,
        "notice_title": contract.notice_title,
        "contractor": contract.contractor.name,
        "organization": contract.organization.name,
        "area": contract.area.name if contract.area_id else None,
        "business_category": contract.business_category.name if contract.business_category_id else None,
        "amount": money(contract.amount),
        "award_date": iso(contract.award_date),
        "procurement_mode": contract.procurement_mode,
        "classification": contract.classification,
        "approved_budget": money(contract.approved_budget),
    }
