"""GET /api/v1/contracts/filter-options/: chip autocomplete."""

from __future__ import annotations

import pytest
from django.urls import reverse

from contracts.models import Area, BusinessCategory, Contractor, Organization

URL = reverse("filter-options")


@pytest.fixture
def names(db):
    for name in ("Abroad Trading", "ROAD BUILDERS", "Broadway Inc", "Road King", "Sea Works", "100% Steel"):
        Contractor.objects.create(name=name)
    Area.objects.create(name="Roadside Province")
    Organization.objects.create(name="Department of Roads")
    BusinessCategory.objects.create(name="Road Works")


def options(client, **params):
    response = client.get(URL, params)
    assert response.status_code == 200, response.content
    return [row["name"] for row in response.json()["results"]]


def test_it_puts_names_starting_with_q_first(alice_client, names):
    assert options(alice_client, field="contractors", q="road") == [
        "ROAD BUILDERS",
        "Road King",
        "Abroad Trading",
        "Broadway Inc",
    ]


def test_it_lists_everything_alphabetically_without_q(alice_client, names):
    assert options(alice_client, field="contractors") == [
        "100% Steel",
        "Abroad Trading",
        "Broadway Inc",
        "ROAD BUILDERS",
        "Road King",
        "Sea Works",
    ]


def test_it_limits(alice_client, names):
    assert options(alice_client, field="contractors", q="ROAD", limit=2) == ["ROAD BUILDERS", "Road King"]


def test_it_takes_q_literally(alice_client, names):
    assert options(alice_client, field="contractors", q="0%") == ["100% Steel"]
    assert options(alice_client, field="contractors", q="_") == []


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        ("areas", ["Roadside Province"]),
        ("organizations", ["Department of Roads"]),
        ("business_categories", ["Road Works"]),
    ],
)
def test_it_serves_each_field(alice_client, names, field, expected):
    assert options(alice_client, field=field, q="road") == expected


def test_it_answers_the_documented_shape(alice_client, names):
    response = alice_client.get(URL, {"field": "areas", "q": "side"})
    assert response.json() == {"field": "areas", "results": [{"name": "Roadside Province"}]}


def test_it_serves_procuring_entity_regions_and_provinces_from_the_contracts(alice_client, make_contract):
    make_contract(organization_region="Region VII", organization_province="Cebu")
    make_contract(organization_region="region vii", organization_province="Bohol")
    make_contract(organization_region="", organization_province="")
    assert options(alice_client, field="organization_regions", q="vii") == ["Region VII"]
    assert options(alice_client, field="organization_provinces") == ["Bohol", "Cebu"]
    assert options(alice_client, field="organization_provinces", q="%") == []


def test_a_search_filters_on_the_procuring_entitys_region(alice_client, make_contract):
    make_contract(reference_id="CEBU", organization_region="Region VII", area="Metro Manila")
    make_contract(reference_id="MANILA", organization_region="NCR", area="Metro Manila")
    body = {"filters": {"organization_regions": ["region vii"], "areas": ["Metro Manila"]}}
    response = alice_client.post(reverse("chip-search"), body, format="json")
    assert response.status_code == 200, response.content
    assert [row["reference_id"] for row in response.json()["results"]] == ["CEBU"]
    wrong = alice_client.post(reverse("chip-search"), {"filters": {"organization_regions": "NCR"}}, "json")
    assert wrong.status_code == 400
    assert "filters.organization_regions" in wrong.json()["errors"]
