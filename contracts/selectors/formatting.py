"""The formatting every selector shares, so that all results are plain JSON (ISO dates,
money as 2-place decimal strings, one pagination block) and can be cached as such."""

from __future__ import annotations

import math
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import connection
from django.db.models import Expression
from django.db.models.functions import Collate

from ..exceptions import InvalidQueryError

CENT = Decimal("0.01")


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


def in_code_points(expression: Expression) -> Expression:
    """``expression`` compared by code point whatever the database's collation, as the
    columnar engine compares text, so both order names alike."""
    return Collate(expression, "C") if connection.vendor == "postgresql" else expression
