"""Contract search: one page of the contracts the chips select, newest first by default.

Also home to the small formatting helpers every selector shares, so that all results are
plain JSON (ISO dates, money as 2-place decimal strings) and can be cached as such.
"""

from __future__ import annotations

import math
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from ..exceptions import InvalidQueryError
from ..filters import ContractFilters, filter_contracts

CENT = Decimal("0.01")

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


def money(value: Decimal | int | float | None) -> str | None:
    """PHP amounts as strings with exactly two places ("4718239.58"); JSON floats would round."""
    if value is None:
        return None
    return str(Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP))


def iso(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def pagination(*, page: int, page_size: int, total_count: int) -> dict[str, Any]:
    """The pagination block; a page past the end is not an error, just an empty page."""
    total_pages = math.ceil(total_count / page_size) if total_count else 0
    return {
        "page": page,
        "page_size": page_size,
        "total_count": total_count,
        "total_pages": total_pages,
        "has_next": page < total_pages,
        "has_previous": page > 1,
    }


def order_by_clause(ordering: str, allowed: tuple[str, ...]) -> tuple[str, bool]:
    """Split "-amount" into ("amount", True) after checking it against the whitelist."""
    descending = ordering.startswith("-")
    field = ordering[1:] if descending else ordering
    if field not in allowed:
        raise InvalidQueryError(
            f"Unknown ordering {ordering!r}.",
            errors={"ordering": [f"Must be one of {', '.join(allowed)}, optionally prefixed with '-'."]},
        )
    return field, descending


def contract_search(
    *, filters: ContractFilters, page: int = 1, page_size: int = 20, ordering: str = "-award_date"
) -> dict[str, Any]:
    field, descending = order_by_clause(ordering, CONTRACT_ORDERINGS)
    sign = "-" if descending else ""
    # Ties broken by id in the same direction, so "-award_date" walks the (-award_date, -id)
    # index and paging never shows a row twice.
    matching = filter_contracts(filters)
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
