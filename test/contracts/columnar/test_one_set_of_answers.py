"""The columnar snapshot and the database give identical answers, chip by chip and combined.

On generated contracts (real PhilGEPS distributions, multi-area delivery lists included):
every chip kind, each time-range shape, amount bounds and their combinations, for the
aggregates, every entity table (all orderings, several pages) and the search page.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from contracts.filters import ContractFilters, DateRange
from contracts.selectors import (
    ENTITY_ORDERINGS,
    ENTITY_TYPES,
    contract_aggregates,
    contract_search,
    entity_table,
)


def year(y: int) -> DateRange:
    return DateRange(dt.date(y, 1, 1), dt.date(y, 12, 31))


def filter_sets(names: dict[str, str]) -> dict[str, ContractFilters]:
    return {
        "none": ContractFilters(),
        "contractor": ContractFilters(contractors=(names["contractor"].lower(),)),
        "two contractors, one by other case": ContractFilters(
            contractors=(names["contractor"], "ALPHA BUILDERS")
        ),
        "area": ContractFilters(areas=("Metro Manila",)),
        "area named inside delivery lists": ContractFilters(areas=("samar",)),
        "areas, one a whole list": ContractFilters(areas=("Abra", "Abra, Agusan Del Norte, Aklan")),
        "unknown area": ContractFilters(areas=("Atlantis",)),
        "organization": ContractFilters(organizations=(names["organization"],)),
        "category": ContractFilters(business_categories=(names["category"],)),
        "keyword": ContractFilters(keywords=("road",)),
        "keyword in notice title only": ContractFilters(keywords=("widening",)),
        "every keyword must match": ContractFilters(keywords=("supply", " DELIVERY ")),
        "year": ContractFilters(time_ranges=(year(2023),)),
        "quarter": ContractFilters(time_ranges=(DateRange(dt.date(2024, 4, 1), dt.date(2024, 6, 30)),)),
        "custom range and a year": ContractFilters(
            time_ranges=(DateRange(dt.date(2020, 2, 15), dt.date(2020, 9, 3)), year(2022))
        ),
        "min amount": ContractFilters(min_amount=Decimal("1000000")),
        "max amount, sub-centavo bound": ContractFilters(max_amount=Decimal("250000.005")),
        "amount range": ContractFilters(min_amount=Decimal("50000.01"), max_amount=Decimal("2000000")),
        "category + year": ContractFilters(
            business_categories=(names["category"],), time_ranges=(year(2023),)
        ),
        "area + keyword + amount": ContractFilters(
            areas=("Metro Manila", "Leyte"), keywords=("supply",), min_amount=Decimal("10000")
        ),
        "everything at once": ContractFilters(
            contractors=(names["contractor"],),
            areas=("Metro Manila", "Cebu"),
            business_categories=(names["category"],),
            keywords=("of",),
            time_ranges=(year(2021), year(2023), year(2024)),
            min_amount=Decimal("1"),
            max_amount=Decimal("90000000"),
        ),
    }


def test_aggregates_are_identical(generated, both_engines):
    for name, filters in filter_sets(generated).items():
        for top_n in (3, 20):
            from_snapshot, from_database = both_engines(
                lambda f=filters, n=top_n: contract_aggregates(filters=f, top_n=n)
            )
            assert from_snapshot == from_database, name
    everything, _ = both_engines(lambda: contract_aggregates(filters=ContractFilters(), top_n=5))
    assert everything["summary"]["count"] == 2003


def test_entity_tables_are_identical(generated, both_engines):
    sets = filter_sets(generated)
    chosen = ("none", "area named inside delivery lists", "keyword", "category + year", "amount range")
    orderings = [*ENTITY_ORDERINGS, *(f"-{o}" for o in ENTITY_ORDERINGS)]
    for entity_type in ENTITY_TYPES:
        for name in chosen:
            for ordering in orderings:
                for page, page_size in ((1, 20), (2, 7), (50, 100)):
                    from_snapshot, from_database = both_engines(
                        lambda e=entity_type, f=sets[name], o=ordering, p=page, s=page_size: entity_table(
                            filters=f, entity_type=e, ordering=o, page=p, page_size=s
                        )
                    )
                    assert from_snapshot == from_database, (entity_type, name, ordering, page)


def test_search_pages_are_identical(generated, both_engines):
    for name, filters in filter_sets(generated).items():
        for ordering in ("-award_date", "award_date", "-amount", "reference_id"):
            for page in (1, 3):
                from_snapshot, from_database = both_engines(
                    lambda f=filters, o=ordering, p=page: contract_search(
                        filters=f, ordering=o, page=p, page_size=10
                    )
                )
                assert from_snapshot == from_database, (name, ordering, page)
