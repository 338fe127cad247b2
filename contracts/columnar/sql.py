"""Chip filters as DuckDB SQL over a snapshot's `contracts` table.

The same rules as `contracts.filters.filter_contracts`, resolved inside the snapshot itself
(names to ids included), so a query never mixes the snapshot's data with the database's.
"""

from __future__ import annotations

from typing import Any

import duckdb

from ..entities import ENTITIES
from ..filters import ContractFilters, normalized_name

# What analytics group on: ids, amount in centavos, date and month number (year * 12 + month - 1).
ANALYTIC_COLUMNS = (
    "id",
    "cents",
    "award_date",
    "mon",
    *(entity.column for entity in ENTITIES),
)


def matching_contracts(
    cursor: duckdb.DuckDBPyConnection, filters: ContractFilters
) -> tuple[str, str, list[Any]]:
    """FROM and WHERE clauses (and parameters) selecting the contracts the chips select.

    An entity chip that names one entity is an equality test; several are a semi-join with
    their ids (an IN list of a dozen literals makes DuckDB test each row a dozen times;
    the join probes a hash table once, measured 3-5x faster on a million rows).
    """
    joins: list[str] = []
    clauses: list[str] = []
    params: list[Any] = []
    for entity in ENTITIES:
        values = getattr(filters, entity.chip)
        if not values:
            continue
        wanted = sorted({normalized_name(v) for v in values if v.strip()})
        lookup = f"SELECT id FROM {entity.key} WHERE list_contains(?, uname)"
        lookup_params: list[Any] = [wanted]
        if entity.key == "area":
            lookup += " UNION SELECT area_id FROM area_entry WHERE list_contains(?, entry)"
            lookup_params.append(wanted)
        # Integers from the snapshot, never user text, go into the SQL literally.
        ids = sorted(int(row[0]) for row in cursor.execute(lookup, lookup_params).fetchall())
        if not ids:
            clauses.append("FALSE")
        elif len(ids) == 1:
            clauses.append(f"contracts.{entity.column} = {ids[0]}")
        else:
            alias = f"chip_{entity.key}"
            joins.append(
                f"SEMI JOIN (SELECT unnest([{', '.join(map(str, ids))}]) AS id) AS {alias} "
                f"ON contracts.{entity.column} = {alias}.id"
            )
    for term in filters.keyword_terms():
        clauses.append("(contains(utitle, ?) OR contains(unotice, ?))")
        params += [term, term]
    if filters.time_ranges:
        clauses.append(" OR ".join("award_date BETWEEN ? AND ?" for _ in filters.time_ranges).join("()"))
        for r in filters.time_ranges:
            params += [r.start, r.end]
    low, high = filters.cents_range()
    if low is not None:
        clauses.append("cents >= ?")
        params.append(low)
    if high is not None:
        clauses.append("cents <= ?")
        params.append(high)
    return " ".join(["contracts", *joins]), " AND ".join(clauses) or "TRUE", params


def is_unfiltered(filters: ContractFilters) -> bool:
    return filters.canonical() == ContractFilters().canonical()


def filtered_relation(
    cursor: duckdb.DuckDBPyConnection, filters: ContractFilters, columns: tuple[str, ...] = ANALYTIC_COLUMNS
) -> str:
    """A relation holding the matching contracts' `columns`, for several queries to group.

    No chips: the whole table. Otherwise the matches are materialized once into a
    temporary table of this cursor, so the five groupings of the charts (or the count and
    the page of a table) scan only them, and a keyword scans the titles once.
    """
    if is_unfiltered(filters):
        return "contracts"
    source, where, params = matching_contracts(cursor, filters)
    selected = ", ".join(f"contracts.{column}" for column in columns)
    cursor.execute(
        f"CREATE OR REPLACE TEMPORARY TABLE matching AS SELECT {selected} FROM {source} WHERE {where}",
        params,
    )
    return "matching"
