"""Chip autocomplete: entity names (or the procuring entities' regions and provinces)
containing what the user typed, prefix matches first."""

from __future__ import annotations

from typing import Any

from django.db.models import Case, F, IntegerField, Min, Value, When
from django.db.models.functions import Upper

from ..columnar import columnar_or_database
from ..entities import BY_CHIP, Entity
from ..exceptions import InvalidQueryError
from ..filters import PLACE_CHIPS, normalized_name
from ..models import Contract
from .formatting import in_code_points

OPTION_FIELDS: tuple[str, ...] = (*BY_CHIP, *PLACE_CHIPS)


def filter_options(*, field: str, q: str = "", limit: int = 20) -> dict[str, Any]:
    term = normalized_name(q)  # as the chips match
    if field in PLACE_CHIPS:
        names = _places(PLACE_CHIPS[field], term, limit)
    elif field in BY_CHIP:
        names = _entity_names(BY_CHIP[field], term, limit)
    else:
        raise InvalidQueryError(
            f"Unknown option field {field!r}.",
            errors={"field": [f"Must be one of {', '.join(OPTION_FIELDS)}."]},
        )
    return {"field": field, "results": [{"name": name} for name in names]}


def _entity_names(entity: Entity, term: str, limit: int) -> list[str]:
    names = entity.model.objects.annotate(uname=Upper("name"))
    if term:
        # UPPER(name) LIKE '%TERM%' is what the trigram index on UPPER(name) serves.
        names = names.filter(uname__contains=term).annotate(prefix_rank=_prefix_rank(term))
        names = names.order_by("prefix_rank", "uname", "name")
    else:
        names = names.order_by("uname", "name")
    return list(names.values_list("name", flat=True)[:limit])


def _prefix_rank(term: str) -> Case:
    """0 for an upper-cased name (``uname``) that starts with ``term``, else 1: prefix matches first."""
    return Case(When(uname__startswith=term, then=Value(0)), default=Value(1), output_field=IntegerField())


def _places(column: str, term: str, limit: int) -> list[str]:
    """The distinct values of a place column containing ``term`` (normalized), prefix matches
    first. They live only on the contracts: the snapshot answers when there is one (a scan of
    one column), else the database (a scan of the table)."""

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
            .annotate(name=Min(in_code_points(F(column))), rank=_prefix_rank(term))
            .order_by("rank", in_code_points(F("uname")))
        )
        return [row["name"] for row in values[:limit]]

    return columnar_or_database(columnar, database)
