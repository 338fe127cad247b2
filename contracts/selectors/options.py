"""Chip autocomplete: entity names (or the procuring entities' regions and provinces)
containing what the user typed, prefix matches first."""

from __future__ import annotations

from typing import Any

from django.db.models import Case, F, IntegerField, Min, Value, When
from django.db.models.functions import Upper

from ..columnar import columnar_or_database
from ..entities import BY_CHIP
from ..exceptions import InvalidQueryError
from ..filters import PLACE_CHIPS
from ..models import Contract
from .formatting import in_code_points

OPTION_FIELDS: tuple[str, ...] = (*BY_CHIP, *PLACE_CHIPS)


def filter_options(*, field: str, q: str = "", limit: int = 20) -> dict[str, Any]:
    if field in PLACE_CHIPS:
        return {"field": field, "results": [{"name": name} for name in _places(PLACE_CHIPS[field], q, limit)]}
    entity = BY_CHIP.get(field)
    if entity is None:
        raise InvalidQueryError(
            f"Unknown option field {field!r}.",
            errors={"field": [f"Must be one of {', '.join(OPTION_FIELDS)}."]},
        )
    term = " ".join(q.split()).upper()
    names = entity.model.objects.annotate(uname=Upper("name"))
    if term:
        # UPPER(name) LIKE '%TERM%' is what the trigram index on UPPER(name) serves.
        names = names.filter(uname__contains=term).annotate(
            prefix_rank=Case(
                When(uname__startswith=term, then=Value(0)), default=Value(1), output_field=IntegerField()
            )
        )
        names = names.order_by("prefix_rank", "uname", "name")
    else:
        names = names.order_by("uname", "name")
    return {
        "field": field,
        "results": [{"name": name} for name in names.values_list("name", flat=True)[:limit]],
    }


def _places(column: str, q: str, limit: int) -> list[str]:
    """The distinct values of a place column containing ``q`` (as the chips match it), prefix
    matches first. They live only on the contracts: the snapshot answers when there is one (a
    scan of one column), else the database (a scan of the table)."""
    term = " ".join(q.split()).upper()

    def columnar(cursor: Any) -> list[str]:
        rows = cursor.execute(
            f"SELECT min({column}) AS name, u_{column} AS uname, NOT starts_with(u_{column}, ?) AS rank "
            f"FROM contracts WHERE u_{column} <> '' AND contains(u_{column}, ?) "
            "GROUP BY uname ORDER BY rank, uname LIMIT ?",
            [term, term, limit],
        ).fetchall()
        return [row[0] for row in rows]

    def database() -> list[str]:
        values = (
            Contract.objects.exclude(**{column: ""})
            .annotate(uname=Upper(column))
            .filter(uname__contains=term)
            .values("uname")
            .annotate(name=Min(in_code_points(F(column))))
            .annotate(
                rank=Case(
                    When(uname__startswith=term, then=Value(0)), default=Value(1), output_field=IntegerField()
                )
            )
            .order_by("rank", in_code_points(F("uname")))
        )
        return [row["name"] for row in values[:limit]]

    return columnar_or_database(columnar, database)
