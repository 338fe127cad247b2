"""What chips mean, asserted on hand-made rows in both engines (database and snapshot)."""

from __future__ import annotations

import pytest

from contracts.columnar import build_snapshot
from contracts.filters import ContractFilters, area_entries
from contracts.models import DatasetVersion
from contracts.selectors import contract_aggregates, contract_search, entity_table


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
    engine()
    assert references(ContractFilters(keywords=("road",))) == ["AWARD", "BOTH", "NOTICE"]
    assert references(ContractFilters(keywords=("road", "SUPPLY"))) == ["BOTH"]
    assert references(ContractFilters(keywords=("supply",))) == ["BOTH", "NONE"]


def test_names_sort_case_insensitively_with_ties_broken_by_id(make_contract, engine):
    for name in ("sample province", "Zamboanga City", "alpha", "Beta", "ALPHA"):
        make_contract(area=name)
    engine()

    def names(ordering: str) -> list[str]:
        table = entity_table(filters=ContractFilters(), entity_type="area", ordering=ordering)
        return [row["name"] for row in table["results"]]

    assert names("name") == ["alpha", "ALPHA", "Beta", "sample province", "Zamboanga City"]
    assert names("-name") == ["Zamboanga City", "sample province", "Beta", "alpha", "ALPHA"]
