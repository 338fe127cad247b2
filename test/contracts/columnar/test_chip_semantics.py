"""What chips mean, asserted on hand-made rows in both engines (database and snapshot)."""

from __future__ import annotations

import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from contracts.columnar import build_snapshot
from contracts.filters import ContractFilters, area_entries
from contracts.models import DatasetVersion
from contracts.selectors import contract_aggregates, contract_search, entity_table, filter_options
from contracts.selectors.table_export import entity_export_lines


@pytest.fixture(params=["database", "columnar"])
def engine(request, db, settings, tmp_path):
    """Call `engine()` once the rows exist: with "columnar", the snapshot answers from then on."""

    def ready() -> None:
        if request.param == "columnar":
            settings.COLUMNAR_ENABLED = True
            settings.COLUMNAR_DIR = tmp_path
            DatasetVersion.bump()
            assert build_snapshot() is not None

    return ready


def references(filters: ContractFilters) -> list[str]:
    found = contract_search(filters=filters, ordering="reference_id", page_size=100)["results"]
    return [row["reference_id"] for row in found]


def test_area_entries_split_a_delivery_list():
    assert area_entries("Abra,  agusan del Norte, , Aklan") == {"ABRA", "AGUSAN DEL NORTE", "AKLAN"}


def test_an_area_chip_finds_delivery_lists_naming_that_area(make_contract, engine):
    make_contract(reference_id="LIST", area="Biliran, Eastern Samar, Leyte, Samar")
    make_contract(reference_id="NORTH", area="Northern Samar")
    make_contract(reference_id="ONE", area="Samar")
    make_contract(reference_id="OTHER", area="Metro Manila")
    engine()
    assert references(ContractFilters(areas=("samar",))) == ["LIST", "ONE"]
    assert references(ContractFilters(areas=("Northern  Samar",))) == ["NORTH"]
    assert references(ContractFilters(areas=("Biliran, Eastern Samar, Leyte, Samar",))) == ["LIST"]
    assert references(ContractFilters(areas=("Sam",))) == []
    # Area totals count a contract once, under its delivery value as exported.
    top = contract_aggregates(filters=ContractFilters(areas=("Samar",)), top_n=10)["top_areas"]
    assert sorted(row["name"] for row in top) == ["Biliran, Eastern Samar, Leyte, Samar", "Samar"]


def test_keywords_match_award_or_notice_title_and_all_must_match(make_contract, engine):
    make_contract(reference_id="AWARD", title="Road repair", notice_title="")
    make_contract(reference_id="NOTICE", title="Lot 2", notice_title="Farm-to-market ROAD")
    make_contract(reference_id="BOTH", title="Road signs", notice_title="Supply of signs")
    make_contract(reference_id="NONE", title="Medicines", notice_title="Hospital supply")
    # The snapshot keeps one copy of a title the notice repeats (case aside).
    make_contract(reference_id="SAME", title="Road lights", notice_title="ROAD LIGHTS")
    make_contract(reference_id="NOTICE ONLY", title="", notice_title="Supply of road cones")
    engine()
    assert references(ContractFilters(keywords=("road",))) == [
        "AWARD",
        "BOTH",
        "NOTICE",
        "NOTICE ONLY",
        "SAME",
    ]
    assert references(ContractFilters(keywords=("road", "SUPPLY"))) == ["BOTH", "NOTICE ONLY"]
    assert references(ContractFilters(keywords=("supply",))) == ["BOTH", "NONE", "NOTICE ONLY"]
    assert references(ContractFilters(keywords=("lights", "road"))) == ["SAME"]


def test_names_sort_case_insensitively_with_ties_broken_by_id(make_contract, engine):
    for name in ("sample province", "Zamboanga City", "alpha", "Beta", "ALPHA"):
        make_contract(area=name)
    engine()

    def names(ordering: str) -> list[str]:
        table = entity_table(filters=ContractFilters(), entity_type="area", ordering=ordering)
        return [row["name"] for row in table["results"]]

    def exported(ordering: str) -> list[str]:
        lines = entity_export_lines(filters=ContractFilters(), entity_type="area", ordering=ordering)
        return [row[0] for row in csv.reader(io.StringIO("".join(lines)))][1:]

    assert names("name") == ["alpha", "ALPHA", "Beta", "sample province", "Zamboanga City"]
    assert names("-name") == ["Zamboanga City", "sample province", "Beta", "alpha", "ALPHA"]
    assert exported("name") == names("name")
    assert exported("-name") == names("-name")


def test_place_chips_match_the_procuring_entitys_region_and_province_not_the_delivery_area(
    make_contract, engine
):
    def place(reference: str, region: str, province: str, area: str | None = None) -> None:
        make_contract(
            reference_id=reference, organization_region=region, organization_province=province, area=area
        )

    place("CEBU", "Region VII", "Cebu", area="Leyte")
    place("BOHOL", "region vii", "Bohol")
    place("NCR", "NCR", "Metro Manila")
    place("DELIVERS", "", "", area="Metro Manila")
    engine()
    assert references(ContractFilters(organization_regions=("REGION  VII",))) == ["BOHOL", "CEBU"]
    assert references(ContractFilters(organization_regions=("Region",))) == []  # whole values only
    assert references(ContractFilters(organization_provinces=("metro manila",))) == ["NCR"]
    assert references(ContractFilters(areas=("Metro Manila",))) == ["DELIVERS"]
    both = ContractFilters(organization_regions=("Region VII", "NCR"), organization_provinces=("Cebu",))
    assert references(both) == ["CEBU"]
    assert references(ContractFilters(organization_regions=("Region VII",), areas=("Leyte",))) == ["CEBU"]


def test_place_options_are_the_distinct_values_prefix_matches_first(make_contract, engine, settings):
    make_contract(organization_region="Region VII")
    make_contract(organization_region="region vii")
    make_contract(organization_region="NCR")
    make_contract(organization_region="Cordillera Administrative Region (CAR)")
    make_contract(organization_region="")
    engine()
    with CaptureQueriesContext(connection) as queries:
        everything = filter_options(field="organization_regions")["results"]
    if settings.COLUMNAR_ENABLED:  # the snapshot answered: the database only gave its version
        assert len(queries) == 1, [query["sql"] for query in queries]
    car = "Cordillera Administrative Region (CAR)"
    assert [row["name"] for row in everything] == [car, "NCR", "Region VII"]
    typed = filter_options(field="organization_regions", q=" region ", limit=5)["results"]
    assert [row["name"] for row in typed] == ["Region VII", car]
    assert filter_options(field="organization_provinces")["results"] == []
