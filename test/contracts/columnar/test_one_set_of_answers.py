"""The columnar snapshot and the database give identical answers, chip by chip and combined.

On generated contracts (real PhilGEPS distributions, multi-area delivery lists included):
every chip kind, each time-range shape, amount bounds and their combinations, for the
aggregates, every entity table (all orderings, several pages) and the search page; then
random combinations of chips drawn from the data itself (a fixed seed, so a failure repeats).
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from functools import partial

from contracts.columnar import build_snapshot
from contracts.entities import BY_KEY
from contracts.filters import PLACE_CHIPS, ContractFilters, DateRange
from contracts.models import Area, BusinessCategory, Contract, Contractor, DatasetVersion, Organization
from contracts.selectors import (
    CONTRACT_ORDERINGS,
    ENTITY_ORDERINGS,
    ENTITY_TYPES,
    contract_aggregates,
    contract_search,
    entity_table,
)
from contracts.selectors.drilldown import related_entities
from contracts.selectors.totals import matching_count, matching_entity_count


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
        "procuring entity region, in any case": ContractFilters(organization_regions=("REGION  VII",)),
        "procuring entity province named like an area": ContractFilters(
            organization_provinces=("metro manila",), areas=("Metro Manila",)
        ),
        "regions and a province": ContractFilters(
            organization_regions=("NCR", "xi"), organization_provinces=("Davao", "Atlantis")
        ),
        "unknown region": ContractFilters(organization_regions=("Atlantis",)),
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


def test_related_entities_are_identical(generated, both_engines):
    sets = filter_sets(generated)
    chosen = ("none", "keyword", "category + year", "amount range", "unknown area")
    drills = [
        ("area", "Metro Manila", "contractor"),
        ("area", "samar", "organization"),  # a delivery list naming it counts
        ("business_category", generated["category"], "organization"),
        ("contractor", generated["contractor"].lower(), "area"),
        ("organization", generated["organization"], "business_category"),
        ("contractor", "Nobody at all", "area"),
    ]
    for name in chosen:
        for dimension, entity, target in drills:
            for top_n in (3, 20):
                from_snapshot, from_database = both_engines(
                    lambda f=sets[name], d=dimension, e=entity, t=target, n=top_n: related_entities(
                        filters=f, dimension=d, name=e, target=t, top_n=n
                    )
                )
                assert from_snapshot == from_database, (name, dimension, entity, target, top_n)
    busiest, _ = both_engines(
        lambda: related_entities(
            filters=ContractFilters(), dimension="area", name="Metro Manila", target="contractor"
        )
    )
    assert busiest["count"] > 0 and len(busiest["results"]) == 10


def test_an_entity_named_by_an_empty_string_is_told_from_no_entity(db, columnar, make_contract, both_engines):
    """Neither an import nor a generate names an entity "", but a database filled otherwise
    may: the snapshot's CSV load must not read that name as no name at all."""
    make_contract(reference_id="EMPTY", area="", amount="10.00", award_date="2023-01-01")
    make_contract(reference_id="NONE", area=None, amount="20.00", award_date="2023-01-02")
    make_contract(reference_id="NAMED", area="Cebu", amount="30.00", award_date="2023-01-03")
    DatasetVersion.bump()
    assert build_snapshot() is not None
    calls = {
        "aggregates": lambda: contract_aggregates(filters=ContractFilters(), top_n=5),
        "areas": lambda: entity_table(filters=ContractFilters(), entity_type="area"),
        "search": lambda: contract_search(filters=ContractFilters(), ordering="amount"),
    }
    for what, call in calls.items():
        from_snapshot, from_database = both_engines(call)
        assert from_snapshot == from_database, what
    aggregates, _ = both_engines(calls["aggregates"])
    # The contract with no area is in no area's total; the one named "" is in its own.
    assert sorted((area["name"], area["total_amount"]) for area in aggregates["top_areas"]) == [
        ("", "10.00"),
        ("Cebu", "30.00"),
    ]


def test_names_and_titles_with_a_sharp_s_and_the_largest_amount_answer_alike(
    db, columnar, make_contract, both_engines
):
    """Python's upper case of "ß" is "SS" and DuckDB's "ẞ"; the database keeps "ß". A chip
    naming "Straße" found nothing on either engine, an area entry "Straße" was found by the
    snapshot alone, and a keyword "straße" by the database alone. The largest amount the
    column holds overflowed the snapshot's centavo conversion, so no snapshot was built."""
    make_contract(
        reference_id="S-1",
        title="Straße repair",
        contractor="Müller Straße GmbH",
        area="Straße-0",
        amount="9999999999999999.99",
        award_date="2023-01-01",
    )
    make_contract(
        reference_id="S-2",
        title="Strasse signs",
        notice_title="Road signs, STRAßE 5",
        contractor="MÜLLER STRASSE GMBH",
        area="Abra, straße-0",
        amount="10.00",
        award_date="2023-01-02",
    )
    DatasetVersion.bump()
    assert build_snapshot() is not None
    chips = {
        "contractor": ContractFilters(contractors=("müller straße gmbh",)),
        "area": ContractFilters(areas=("STRAßE-0",)),
        "keyword": ContractFilters(keywords=("straße",)),
        "keyword, other spelling": ContractFilters(keywords=("strasse",)),
        "none": ContractFilters(),
    }
    found = {}
    for name, filters in chips.items():
        from_snapshot, from_database = both_engines(
            lambda f=filters: contract_search(filters=f, ordering="reference_id")
        )
        assert from_snapshot == from_database, name
        found[name] = [row["reference_id"] for row in from_snapshot["results"]]
        aggregates = both_engines(lambda f=filters: contract_aggregates(filters=f, top_n=5))
        assert aggregates[0] == aggregates[1], name
    assert found == {
        "contractor": ["S-1"],
        "area": ["S-1", "S-2"],
        "keyword": ["S-1", "S-2"],
        "keyword, other spelling": ["S-2"],
        "none": ["S-1", "S-2"],
    }
    everything, _ = both_engines(lambda: contract_aggregates(filters=ContractFilters(), top_n=5))
    assert everything["summary"]["total_amount"] == "10000000000000009.99"


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


def random_filters(rng: random.Random, names: dict[str, list[str]], words: list[str]) -> ContractFilters:
    """Chips as a user might combine them: names in any case, word fragments, odd bounds."""
    chips: dict = {}

    def some(values: list[str], most: int) -> tuple[str, ...]:
        return tuple(rng.choice(values) for _ in range(rng.randint(1, most)))

    if rng.random() < 0.3:
        chips["contractors"] = tuple(name.lower() for name in some(names["contractors"], 3))
    if rng.random() < 0.3:
        chips["areas"] = some([*names["areas"], "Samar", "leyte", "CEBU", "Abra"], 3)
    if rng.random() < 0.2:
        chips["organizations"] = some(names["organizations"], 2)
    if rng.random() < 0.3:
        chips["business_categories"] = some(names["business_categories"], 2)
    for chip in PLACE_CHIPS:
        if rng.random() < 0.15:
            chips[chip] = tuple(rng.choice([name, name.lower()]) for name in some(names[chip], 2))
    if rng.random() < 0.4:
        word = rng.choice(words)
        start = rng.randint(0, max(0, len(word) - 3))
        chips["keywords"] = (word[start : start + rng.randint(2, 6)],)
        if rng.random() < 0.2:
            chips["keywords"] += (rng.choice(["%", "_", "of", " a "]),)
    if rng.random() < 0.4:
        ranges = []
        for _ in range(rng.randint(1, 3)):
            start = dt.date(rng.randint(2013, 2025), rng.randint(1, 12), rng.randint(1, 28))
            ranges.append(DateRange(start, start + dt.timedelta(days=rng.randint(0, 800))))
        chips["time_ranges"] = tuple(ranges)
    if rng.random() < 0.3:
        chips["min_amount"] = Decimal(rng.choice(["0", "0.01", "999.995", "50000", "1000000.5"]))
    if rng.random() < 0.2:
        chips["max_amount"] = Decimal(rng.choice(["0", "100", "250000.004", "5000000", "1e9"]))
    return ContractFilters(**chips)


def test_random_chip_combinations_are_identical(generated, both_engines):
    rng = random.Random(20261204)
    names = {
        "contractors": list(Contractor.objects.values_list("name", flat=True)),
        "areas": list(Area.objects.values_list("name", flat=True)),
        "organizations": list(Organization.objects.values_list("name", flat=True)),
        "business_categories": list(BusinessCategory.objects.values_list("name", flat=True)),
        **{
            chip: [*Contract.objects.exclude(**{column: ""}).values_list(column, flat=True).distinct(), "?"]
            for chip, column in PLACE_CHIPS.items()
        },
    }
    titles = Contract.objects.order_by("id").values_list("title", "notice_title")[:500]
    words = [word for pair in titles for word in " ".join(pair).split() if len(word) > 2]
    for _ in range(200):
        filters = random_filters(rng, names, words)
        top_n = rng.choice([1, 5, 20])
        entity_type = rng.choice(ENTITY_TYPES)
        entity_ordering = rng.choice(["", "-"]) + rng.choice(ENTITY_ORDERINGS)
        search_ordering = rng.choice(["", "-"]) + rng.choice(CONTRACT_ORDERINGS)
        paging = {"page": rng.choice([1, 2, 3]), "page_size": rng.choice([5, 20])}
        calls = {
            "aggregates": partial(contract_aggregates, filters=filters, top_n=top_n),
            "entity table": partial(
                entity_table, filters=filters, entity_type=entity_type, ordering=entity_ordering, **paging
            ),
            "search": partial(contract_search, filters=filters, ordering=search_ordering, **paging),
            "count": partial(matching_count, filters=filters),
            "entity count": partial(matching_entity_count, filters=filters, entity=BY_KEY[entity_type]),
        }
        for what, call in calls.items():
            from_snapshot, from_database = both_engines(call)
            context = (what, filters, top_n, entity_type, entity_ordering, paging)
            assert from_snapshot == from_database, context
