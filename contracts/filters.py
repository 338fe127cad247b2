"""The chip filters: one immutable value, its canonical form, and the queryset it selects.

Semantics: values inside one list are OR'ed, lists are AND'ed; names (and the procuring
entity's region and province) match whole and case-insensitively; every keyword must occur
in the award title or the notice title; an area chip also finds the contracts whose
delivery list ("Abra, Aklan, Metro Manila") names that area as one of its comma-separated
entries. The columnar engine (`contracts.columnar`) applies the very same rules, with the
helpers below, so both give one set of answers.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from functools import reduce
from operator import or_
from typing import Any

from django.db.models import BooleanField, Q, QuerySet, Value
from django.db.models.functions import Upper

from .entities import BY_KEY, ENTITIES
from .models import Area, Contract
from .unicode_upper import upper_simple


@dataclass(frozen=True)
class DateRange:
    start: date
    end: date


# Chips on where the procuring entity is (its own Region and Province columns of the export),
# by chip name: the contract column each matches, whole and case-insensitively. Never the
# Area of Delivery, which says where the contract delivers.
PLACE_CHIPS: dict[str, str] = {
    "organization_regions": "organization_region",
    "organization_provinces": "organization_province",
}


@dataclass(frozen=True)
class ContractFilters:
    contractors: tuple[str, ...] = ()
    areas: tuple[str, ...] = ()
    organizations: tuple[str, ...] = ()
    business_categories: tuple[str, ...] = ()
    organization_regions: tuple[str, ...] = ()
    organization_provinces: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    time_ranges: tuple[DateRange, ...] = ()
    min_amount: Decimal | None = None
    max_amount: Decimal | None = None

    def canonical(self) -> dict[str, Any]:
        """A JSON-able form in which chip order, duplicates, case and spacing do not matter."""

        def names(values: tuple[str, ...]) -> list[str]:
            return sorted({normalized_name(v) for v in values if v.strip()})

        return {
            **{entity.chip: names(getattr(self, entity.chip)) for entity in ENTITIES},
            # Only when chosen: filters without them keep the form (and cache keys) they had.
            **{chip: names(getattr(self, chip)) for chip in PLACE_CHIPS if getattr(self, chip)},
            "keywords": names(self.keywords),
            "time_ranges": sorted({(r.start.isoformat(), r.end.isoformat()) for r in self.time_ranges}),
            "min_amount": None if self.min_amount is None else str(self.min_amount.normalize()),
            "max_amount": None if self.max_amount is None else str(self.max_amount.normalize()),
        }

    def keyword_terms(self) -> list[str]:
        """The keywords as matched: upper case, surrounding spaces dropped, blanks ignored."""
        return [term for term in (upper_simple(k.strip()) for k in self.keywords) if term]

    def cents_range(self) -> tuple[int | None, int | None]:
        """The amount bounds in whole centavos (amounts have two places, so this is exact)."""
        low = self.min_amount
        high = self.max_amount
        return (
            None if low is None else int((low * 100).to_integral_value(ROUND_CEILING)),
            None if high is None else int((high * 100).to_integral_value(ROUND_FLOOR)),
        )


def normalized_name(value: str) -> str:
    """How a chip names an entity: spacing collapsed, upper case.

    Upper case as the database's UPPER(name) has it, one character for one ("ß" stays "ß"):
    Python's own ("ß" to "SS") would name no stored name, so such a chip found nothing.
    """
    return upper_simple(" ".join(value.split()))


def area_entries(name: str) -> frozenset[str]:
    """The areas an Area of Delivery value names: each comma-separated entry, normalized.

    "Abra, Agusan Del Norte" names ABRA and AGUSAN DEL NORTE. Entries rather than
    substrings: a chip for "Samar" must not find "Northern Samar", nor "Manila" find
    "Metro Manila". The whole value is matched as it is exported besides (by `UPPER(name)`).
    """
    return frozenset(normalized_name(part) for part in name.split(",") if part.strip())


def matching_area_ids(wanted: Iterable[str]) -> list[int]:
    """Ids of the areas a list of area chips selects (the exported value, or one entry of it)."""
    wanted = {normalized_name(v) for v in wanted if v.strip()}
    if not wanted:
        return []
    # An entry equal to W holds W's first word verbatim, so UPPER(name) LIKE '%WORD%' (the
    # trigram index) narrows the areas to a handful before the exact test in Python.
    candidates = Area.objects.annotate(uname=Upper("name")).filter(
        Q(uname__in=wanted) | reduce(or_, (Q(uname__contains=w.split()[0]) for w in wanted))
    )
    return sorted(
        pk
        for pk, name, uname in candidates.values_list("id", "name", "uname")
        if uname in wanted or area_entries(name) & wanted
    )


def filter_contracts(
    filters: ContractFilters, queryset: QuerySet[Contract] | None = None
) -> QuerySet[Contract]:
    """The contracts that match every chip list (each list OR'ed inside)."""
    qs = Contract.objects.all() if queryset is None else queryset
    for entity in ENTITIES:
        values = getattr(filters, entity.chip)
        if not values:
            continue
        if entity is BY_KEY["area"]:
            ids = matching_area_ids(values)
            # No such area: nothing matches (an empty IN () would not compile to SQL).
            qs = qs.filter(area_id__in=ids) if ids else qs.filter(Value(False, output_field=BooleanField()))
        else:
            ids = (
                entity.model.objects.annotate(uname=Upper("name"))
                .filter(uname__in=[normalized_name(v) for v in values])
                .values("id")
            )
            qs = qs.filter(**{f"{entity.column}__in": ids})
    for chip, column in PLACE_CHIPS.items():
        values = getattr(filters, chip)
        if values:
            qs = qs.alias(**{f"u_{column}": Upper(column)}).filter(
                **{f"u_{column}__in": [normalized_name(v) for v in values]}
            )
    terms = filters.keyword_terms()
    if terms:
        # UPPER(col) LIKE '%KW%', the form a trigram index on UPPER(col) serves. Only the award
        # title has one, so with the OR PostgreSQL scans (see contracts/indexes.py); the columnar
        # engine answers keyword chips.
        qs = qs.annotate(utitle=Upper("title"), unotice=Upper("notice_title"))
        for term in terms:
            qs = qs.filter(Q(utitle__contains=term) | Q(unotice__contains=term))
    if filters.time_ranges:
        in_any_range = Q()
        for r in filters.time_ranges:
            in_any_range |= Q(award_date__range=(r.start, r.end))
        qs = qs.filter(in_any_range)
    if filters.min_amount is not None:
        qs = qs.filter(amount__gte=filters.min_amount)
    if filters.max_amount is not None:
        qs = qs.filter(amount__lte=filters.max_amount)
    return qs
