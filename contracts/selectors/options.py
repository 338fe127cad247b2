"""Chip autocomplete: entity names containing what the user typed, prefix matches first."""

from __future__ import annotations

from typing import Any

from django.db.models import Case, IntegerField, Value, When
from django.db.models.functions import Upper

from ..entities import BY_CHIP
from ..exceptions import InvalidQueryError

OPTION_FIELDS: tuple[str, ...] = tuple(BY_CHIP)


def filter_options(*, field: str, q: str = "", limit: int = 20) -> dict[str, Any]:
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
