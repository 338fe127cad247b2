"""Chip filters as DuckDB SQL over a snapshot's `contracts` table.

The same rules as `contracts.filters.filter_contracts`, resolved inside the snapshot itself
(names to ids included), so a query never mixes the snapshot's data with the database's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import duckdb

from ..entities import ENTITIES, Entity
from ..filters import PLACE_CHIPS, ContractFilters, normalized_name
from .serving import memoized, recall, remember

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
        wanted = tuple(sorted({normalized_name(v) for v in values if v.strip()}))
        ids = memoized(("ids", entity.key, wanted), lambda e=entity, w=wanted: _named_ids(cursor, e, w))
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
    for chip, column in PLACE_CHIPS.items():
        values = getattr(filters, chip)
        if values:
            # The snapshot keeps the database's own UPPER of the column (see snapshot.py).
            clauses.append(f"list_contains(?, u_{column})")
            params.append(sorted({normalized_name(v) for v in values}))
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


def _named_ids(cursor: duckdb.DuckDBPyConnection, entity: Entity, wanted: tuple[str, ...]) -> tuple[int, ...]:
    """The ids of the entities the chips name (normalized), in order."""
    lookup = f"SELECT id FROM {entity.key} WHERE list_contains(?, uname)"
    params: list[Any] = [list(wanted)]
    if entity.key == "area":
        lookup += " UNION SELECT area_id FROM area_entry WHERE list_contains(?, entry)"
        params.append(list(wanted))
    # Integers from the snapshot, never user text, go into the SQL literally.
    return tuple(sorted(int(row[0]) for row in cursor.execute(lookup, params).fetchall()))


def entity_names(cursor: duckdb.DuckDBPyConnection, ids: dict[str, set[int]]) -> dict[str, dict[int, str]]:
    """The names of entities by id, per entity table (`ids` keyed by entity key).

    Remembered by the snapshot (see `serving.memoized`): a page or a top list names the same
    few entities again and again, and each table read costs a scan of its names (half a
    millisecond for the contractors at 1M contracts). The others are read in one statement.
    """
    wanted = [("name", key, pk) for key, pks in ids.items() for pk in pks]
    known = recall(wanted)
    missing: dict[str, list[int]] = {}
    for _, key, pk in wanted:
        if ("name", key, pk) not in known:
            missing.setdefault(key, []).append(pk)
    if missing:
        # Table names from ENTITIES and integers from the snapshot: no user text in the SQL.
        read = " UNION ALL ".join(
            f"SELECT '{key}', id, name FROM {key} WHERE id IN ({', '.join(map(str, sorted(pks)))})"
            for key, pks in missing.items()
        )
        found = {("name", key, pk): name for key, pk, name in cursor.execute(read).fetchall()}
        remember(found)
        known.update(found)
    names: dict[str, dict[int, str]] = {key: {} for key in ids}
    for (_, key, pk), name in known.items():
        names[key][pk] = name
    return names


def is_unfiltered(filters: ContractFilters) -> bool:
    return filters.canonical() == ContractFilters().canonical()


def filtered_relation(
    cursor: duckdb.DuckDBPyConnection, filters: ContractFilters, columns: tuple[str, ...] = ANALYTIC_COLUMNS
) -> str:
    """A temporary table of this cursor holding the matching contracts' `columns` (or the
    whole table when there are no chips), for several statements to read."""
    if is_unfiltered(filters):
        return "contracts"
    source, where, params = matching_contracts(cursor, filters)
    selected = ", ".join(f"contracts.{column}" for column in columns)
    cursor.execute(
        f"CREATE OR REPLACE TEMPORARY TABLE matching AS SELECT {selected} FROM {source} WHERE {where}",
        params,
    )
    return "matching"


@dataclass(frozen=True)
class Matching:
    """The matching contracts for one statement: `with_clause` starts it (empty when there
    are no chips), `relation` is what its FROM reads, `params` bind the clause's placeholders.

    A common table expression, not a temporary table: creating one costs a catalog write
    and a copy of every match before any grouping starts (5 ms for a contractor's 150 rows,
    16 ms for one area's 150,000), where a statement reading its matches straight from the
    scan pays neither.
    """

    with_clause: str
    relation: str
    params: list[Any]


def matching_statement(
    cursor: duckdb.DuckDBPyConnection,
    filters: ContractFilters,
    columns: tuple[str, ...] = ANALYTIC_COLUMNS,
    *,
    reused: bool,
) -> Matching:
    """The matching contracts' `columns` as `matching`, for a statement that reads them once
    (the scan feeds the grouping directly) or, `reused`, several times (kept once: the five
    groupings of the charts, or a count and a page, scan only the matches and a keyword
    scans the titles once)."""
    if is_unfiltered(filters):
        return Matching("", "contracts", [])
    source, where, params = matching_contracts(cursor, filters)
    selected = ", ".join(f"contracts.{column}" for column in columns)
    kind = "MATERIALIZED" if reused else "NOT MATERIALIZED"
    return Matching(
        f"WITH matching AS {kind} (SELECT {selected} FROM {source} WHERE {where}) ", "matching", params
    )
