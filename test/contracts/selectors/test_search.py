"""contract_search and filter_options called directly, as the Celery tasks will call them."""

from __future__ import annotations

import pytest

from contracts.exceptions import InvalidQueryError
from contracts.filters import ContractFilters
from contracts.selectors import contract_search, filter_options


def test_search_walks_every_row_once_in_order(random_contracts):
    expected = sorted(random_contracts, key=lambda r: (r.amount, r.id), reverse=True)
    got = []
    page = 1
    while True:
        result = contract_search(filters=ContractFilters(), page=page, page_size=37, ordering="-amount")
        got += [row["id"] for row in result["results"]]
        if not result["pagination"]["has_next"]:
            break
        page += 1
    assert got == [r.id for r in expected]
    assert page == result["pagination"]["total_pages"] == 11


def test_search_reads_a_page_in_two_queries(random_contracts, django_assert_num_queries):
    with django_assert_num_queries(2):  # the count and the joined page
        result = contract_search(filters=ContractFilters(keywords=("road",)), page_size=100)
    assert all("ROAD" in row["title"].upper() for row in result["results"])
    assert all(row["contractor"].startswith("Contractor") for row in result["results"])


def test_search_results_are_json_ready(random_contracts):
    row = contract_search(filters=ContractFilters(), page_size=1)["results"][0]
    assert isinstance(row["amount"], str)
    assert row["amount"].count(".") == 1
    assert len(row["amount"].split(".")[1]) == 2
    assert isinstance(row["award_date"], str)


@pytest.mark.parametrize("ordering", ["title", "-", "amount,id", "contractor__name"])
def test_search_refuses_other_orderings(db, ordering):
    with pytest.raises(InvalidQueryError):
        contract_search(filters=ContractFilters(), ordering=ordering)


def test_filter_options_refuses_unknown_fields(db):
    with pytest.raises(InvalidQueryError):
        filter_options(field="titles")


def test_filter_options_matches_case_insensitively(random_contracts):
    result = filter_options(field="contractors", q="tor 1", limit=3)
    assert result == {
        "field": "contractors",
        "results": [{"name": "Contractor 10"}, {"name": "Contractor 11"}, {"name": "Contractor 12"}],
    }
