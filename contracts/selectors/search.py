"""Contract search: one page of the contracts the chips select, newest first by default."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import duckdb

from ..columnar import columnar_or_database
from ..columnar.sql import entity_names, matching_statement
from ..entities import ENTITIES
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
    if id_range is not None:
        # A narrow id range is a primary-key range scan in the database; the snapshot may
        # not hold the newest rows yet.
        total_count, results = _search_database(filters, field, descending, page, page_size, id_range)
    else:
        total_count, results = columnar_or_database(
            lambda cursor: _search_columnar(cursor, filters, field, descending, page, page_size),
            lambda: _search_database(filters, field, descending, page, page_size),
        )
    return {
        "results": results,
        "pagination": pagination(page=page, page_size=page_size, total_count=total_count),
    }


def _search_database(
    filters: ContractFilters,
    field: str,
    descending: bool,
    page: int,
    page_size: int,
    id_range: tuple[int, int] | None = None,
) -> tuple[int, list[dict[str, Any]]]:
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
    return total_count, [_contract_row(contract) for contract in rows]


_COLUMNAR_SORT = {"award_date": "award_date", "amount": "cents", "reference_id": "reference_id"}


def _search_columnar(
    cursor: duckdb.DuckDBPyConnection,
    filters: ContractFilters,
    field: str,
    descending: bool,
    page: int,
    page_size: int,
) -> tuple[int, list[dict[str, Any]]]:
    sort = _COLUMNAR_SORT[field]
    # Count and rank on the two columns that decide the page, in one statement over the
    # matches kept once, then read the page's rows by id (the snapshot's index on id): the
    # titles of the other matches are never read.
    matching = matching_statement(cursor, filters, columns=("id", sort), reused=True)
    rank = f"{sort} {'DESC' if descending else 'ASC'}, id {'DESC' if descending else 'ASC'}"
    total_count, page_ids = cursor.execute(
        f"{matching.with_clause}SELECT (SELECT count(*) FROM {matching.relation}), "
        f"(SELECT list(id ORDER BY {rank}) FROM "
        f"(SELECT id, {sort} FROM {matching.relation} ORDER BY {rank} LIMIT ? OFFSET ?))",
        [*matching.params, page_size, (page - 1) * page_size],
    ).fetchone()
    if not page_ids:
        return total_count, []
    # Literal integers from the snapshot: an IN list on the indexed id is a point look-up
    # each (joined to the name tables, the plan would scan instead: 25x slower).
    rows = cursor.execute(
        f"SELECT id, reference_id, title, notice_title, {', '.join(e.column for e in ENTITIES)}, "
        "cents, award_date, procurement_mode, classification, budget_cents "
        f"FROM contracts WHERE id IN ({', '.join(map(str, page_ids))})"
    ).fetchall()
    names = entity_names(
        cursor, {e.key: {row[n] for row in rows} - {None} for n, e in enumerate(ENTITIES, start=4)}
    )
    order = {pk: n for n, pk in enumerate(page_ids)}
    found = [
        (*row[:4], *(names[e.key].get(row[n]) for n, e in enumerate(ENTITIES, start=4)), *row[8:])
        for row in sorted(rows, key=lambda row: order[row[0]])
    ]
    return total_count, [
        {
            "id": pk,
            "reference_id": reference_id,
            "title": title,
            "notice_title": notice_title,
            "contractor": contractor,
            "organization": organization,
            "area": area,
            "business_category": category,
            "amount": money(Decimal(cents) / 100),
            "award_date": iso(award_date),
            "procurement_mode": mode,
            "classification": classification,
            "approved_budget": None if budget is None else money(Decimal(budget) / 100),
        }
        for (
            pk,
            reference_id,
            title,
            notice_title,
            contractor,
            area,
            organization,
            category,
            cents,
            award_date,
            mode,
            classification,
            budget,
        ) in found
    ]


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
