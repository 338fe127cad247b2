"""The years and quarters that have contracts, for the dashboard's time pickers.

A full pass over the table, so the answer is cached per dataset version: every import bumps
the version, and with it the key, so the cache never outlives the data. A recreated
database's versions start again, and its first one deletes them all.
"""

from __future__ import annotations

from typing import Any

from django.core.cache import cache
from django.db.models import Count, Max, Min
from django.db.models.functions import ExtractQuarter, ExtractYear

from ..models import Contract, DatasetVersion
from .search import iso

# Old versions' entries are never read again; they only need to expire eventually.
TIME_RANGES_CACHE_SECONDS = 24 * 3600


def time_ranges_cache_key(version: int | str) -> str:
    """The entry of ``version``; with ``"*"``, a pattern matching every version's."""
    return f"time_ranges:v{version}"


def time_ranges_forget_all(**kwargs: Any) -> None:
    """A ``dataset_line_started`` receiver: this database's versions count from the start
    again, so an entry under one of their numbers may describe another database's data."""
    cache.delete_pattern(time_ranges_cache_key("*"))  # type: ignore[attr-defined]  # django-redis


def available_time_ranges() -> dict[str, Any]:
    """``{"dataset_version", "first_award_date", "last_award_date", "years": [{"year",
    "count", "quarters": [{"quarter", "count"}]}]}``, oldest first; only ranges with data."""
    version = DatasetVersion.current()
    key = time_ranges_cache_key(version)
    answer = cache.get(key)
    if answer is None:
        answer = {"dataset_version": version, **_time_ranges()}
        cache.set(key, answer, timeout=TIME_RANGES_CACHE_SECONDS)
    return answer


def _time_ranges() -> dict[str, Any]:
    quarters = (
        Contract.objects.order_by()
        .annotate(year=ExtractYear("award_date"), quarter=ExtractQuarter("award_date"))
        .values("year", "quarter")
        .annotate(count=Count("id"))
        .order_by("year", "quarter")
    )
    years: dict[int, dict[str, Any]] = {}
    for row in quarters:
        year = years.setdefault(row["year"], {"year": row["year"], "count": 0, "quarters": []})
        year["count"] += row["count"]
        year["quarters"].append({"quarter": row["quarter"], "count": row["count"]})
    bounds = Contract.objects.aggregate(first=Min("award_date"), last=Max("award_date"))
    return {
        "first_award_date": iso(bounds["first"]),
        "last_award_date": iso(bounds["last"]),
        "years": list(years.values()),
    }
