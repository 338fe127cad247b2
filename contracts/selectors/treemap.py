"""Value by business category, and within each category by contractor: the treemap's data.

One statement: contracts grouped by (category, contractor), rolled up to categories, and
the top contractors of the top categories ranked by a window function; what does not make
the cut is summed into "other" so the tiles still add up to the total.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..filters import ContractFilters
from ..models import BusinessCategory, Contractor
from .matching_rows import Dialect, on_matching_rows
from .red_flags import cents_money

ProgressCallback = Callable[[int, int, str], None]
MAX_CATEGORIES = 30
MAX_CONTRACTORS = 20


def _tile(name: str, count: int, cents: int) -> dict[str, Any]:
    return {"name": name, "count": count, "total_amount": cents_money(cents)}


def value_treemap(
    *,
    filters: ContractFilters,
    categories: int = 12,
    contractors: int = 8,
    on_progress: ProgressCallback | None = None,
) -> dict[str, Any]:
    """The top ``categories`` by value, each with its top ``contractors`` and the rest as
    ``other``; the remaining categories summed in ``other_categories``; contracts without a
    category in ``without_category``."""

    # The two limits are validated integers, written into the text: the relation (and its
    # parameters) comes first in this statement.
    def build(d: Dialect, relation: str) -> tuple[str, list[Any]]:
        sql = f"""
            WITH pairs AS (
                SELECT business_category_id AS cat, contractor_id AS con, COUNT(*) AS n,
                       SUM(cents) AS total
                FROM {relation} AS matching
                GROUP BY business_category_id, contractor_id
            ),
            cats AS (SELECT cat, SUM(n) AS n, SUM(total) AS total FROM pairs GROUP BY cat),
            top_cats AS (
                SELECT cat FROM cats WHERE cat IS NOT NULL ORDER BY total DESC, cat LIMIT {int(categories)}
            ),
            ranked AS (
                SELECT pairs.cat, pairs.con, pairs.n, pairs.total,
                       ROW_NUMBER() OVER (PARTITION BY pairs.cat ORDER BY pairs.total DESC, pairs.con) AS r
                FROM pairs JOIN top_cats ON top_cats.cat = pairs.cat
            )
            SELECT cat, NULL AS con, n, total FROM cats
            UNION ALL
            SELECT cat, con, n, total FROM ranked WHERE r <= {int(contractors)}
        """
        return sql, []

    # SUM of a count is numeric on PostgreSQL: counts and totals become plain ints here.
    rows = [
        {**row, "n": int(row["n"]), "total": int(row["total"])}
        for row in on_matching_rows(
            filters, lambda source: source.rows(build, "business_category_id", "contractor_id")
        )
    ]
    if on_progress is not None:
        on_progress(1, 1, "Totalled categories and contractors")
    cats = sorted(
        (r for r in rows if r["con"] is None and r["cat"] is not None),
        key=lambda r: (-int(r["total"]), r["cat"]),
    )
    top, rest = cats[:categories], cats[categories:]
    members: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        if row["con"] is not None:
            members.setdefault(row["cat"], []).append(row)
    cat_ids = [c["cat"] for c in top]
    cat_names = dict(BusinessCategory.objects.filter(id__in=cat_ids).values_list("id", "name"))
    con_ids = [m["con"] for group in members.values() for m in group]
    con_names = dict(Contractor.objects.filter(id__in=con_ids).values_list("id", "name"))
    none = next((r for r in rows if r["con"] is None and r["cat"] is None), None)

    tiles = []
    for cat in top:
        inside = sorted(members.get(cat["cat"], []), key=lambda m: (-int(m["total"]), m["con"]))
        shown_n = sum(m["n"] for m in inside)
        shown_total = sum(int(m["total"]) for m in inside)
        tiles.append(
            {
                **_tile(cat_names.get(cat["cat"], ""), cat["n"], int(cat["total"])),
                "contractors": [_tile(con_names.get(m["con"], ""), m["n"], int(m["total"])) for m in inside],
                "other": {
                    "count": cat["n"] - shown_n,
                    "total_amount": cents_money(int(cat["total"]) - shown_total),
                },
            }
        )
    all_n = sum(r["n"] for r in rows if r["con"] is None)
    all_total = sum(int(r["total"]) for r in rows if r["con"] is None)
    return {
        "count": all_n,
        "total_amount": cents_money(all_total),
        "categories": tiles,
        "other_categories": {
            "categories": len(rest),
            "count": sum(r["n"] for r in rest),
            "total_amount": cents_money(sum(int(r["total"]) for r in rest)),
        },
        "without_category": {
            "count": none["n"] if none else 0,
            "total_amount": cents_money(int(none["total"]) if none else 0),
        },
    }
