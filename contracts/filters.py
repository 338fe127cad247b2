"""The chip filters: one immutable value, its canonical form, and the queryset it selects.

Semantics: values inside one list are OR'ed, lists are AND'ed; every
keyword must occur in the title; names match case-insensitively.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Q, QuerySet
from django.db.models.functions import Upper

from .models import Area, BusinessCategory, Contract, Contractor, Organization


@dataclass(frozen=True)
class DateRange:
    start: date
    end: date


@dataclass(frozen=True)
class ContractFilters:
    contractors: tuple[str, ...] = ()
    areas: tuple[str, ...] = ()
    organizations: tuple[str, ...] = ()
    business_categories: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    time_ranges: tuple[DateRange, ...] = ()
    min_amount: Decimal | None = None
    max_amount: Decimal | None = None

    def canonical(self) -> dict[str, Any]:
        """A JSON-able form in which chip order, duplicates, case and spacing do not matter."""

        def names(values: tuple[str, ...]) -> list[str]:
            return sorted({" ".join(v.split()).upper() for v in values if v.strip()})

        return {
            "contractors": names(self.contractors),
            "areas": names(self.areas),
            "organizations": names(self.organizations),
            "business_categories": names(self.business_categories),
            "keywords": names(self.keywords),
            "time_ranges": sorted({(r.start.isoformat(), r.end.isoformat()) for r in self.time_ranges}),
            "min_amount": None if self.min_amount is None else str(self.min_amount.normalize()),
            "max_amount": None if self.max_amount is None else str(self.max_amount.normalize()),
        }


# (filter field, the entity model its chips name, the Contract foreign key it narrows)
ENTITY_FILTERS = (
    ("contractors", Contractor, "contractor_id"),
    ("areas", Area, "area_id"),
    ("organizations", Organization, "organization_id"),
    ("business_categories", BusinessCategory, "business_category_id"),
)


def _names_q(values: tuple[str, ...]) -> Q:
    return Q(uname__in=[" ".join(v.split()).upper() for v in values])


def filter_contracts(
    filters: ContractFilters, queryset: QuerySet[Contract] | None = None
) -> QuerySet[Contract]:
    """The contracts that match every chip list (each list OR'ed inside)."""
    qs = Contract.objects.all() if queryset is None else queryset
    for field_name, model, fk in ENTITY_FILTERS:
        values = getattr(filters, field_name)
        if values:
            ids = model.objects.annotate(uname=Upper("name")).filter(_names_q(values)).values("id")
            qs = qs.filter(**{f"{fk}__in": ids})
    for keyword in filters.keywords:
        # UPPER(title) LIKE UPPER('%kw%') is what the trigram index on UPPER(title) serves.
        qs = qs.annotate(utitle=Upper("title")).filter(utitle__contains=keyword.strip().upper())
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
