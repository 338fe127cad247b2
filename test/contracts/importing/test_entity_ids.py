"""entity_ids_for_names: bulk get-or-create of repeated names."""

from __future__ import annotations

import pytest

from contracts.models import Area, Contractor
from contracts.services import entity_ids_for_names

pytestmark = pytest.mark.django_db


def test_it_creates_missing_names_and_reuses_existing_ones():
    acme = Contractor.objects.create(name="ACME BUILDERS")

    ids = entity_ids_for_names(Contractor, ["ACME BUILDERS", "RIZAL BUILDERS", "RIZAL BUILDERS"])

    assert ids["ACME BUILDERS"] == acme.id
    assert ids["RIZAL BUILDERS"] == Contractor.objects.get(name="RIZAL BUILDERS").id
    assert Contractor.objects.count() == 2


def test_names_match_exactly():
    Area.objects.create(name="Metro Manila")

    ids = entity_ids_for_names(Area, ["METRO MANILA"])

    assert set(ids) == {"METRO MANILA"}
    assert Area.objects.count() == 2


def test_no_names_no_queries(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert entity_ids_for_names(Area, [None, ""]) == {}


def test_many_names_are_looked_up_in_chunks():
    names = [f"CONTRACTOR {n}" for n in range(2500)]

    ids = entity_ids_for_names(Contractor, names)

    assert len(ids) == 2500
    assert ids == dict(Contractor.objects.values_list("name", "id"))
