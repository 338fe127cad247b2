"""Generated contracts with a columnar snapshot of them, and both engines at hand."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.db.models import Count
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from contracts.columnar import build_snapshot
from contracts.generating.service import contracts_generate
from contracts.models import BusinessCategory, Contract, DatasetVersion, Organization


@pytest.fixture
def columnar(settings, tmp_path):
    """The columnar engine on, with a snapshot directory of this test's own."""
    settings.COLUMNAR_ENABLED = True
    settings.COLUMNAR_DIR = tmp_path / "columnar"
    return settings


@pytest.fixture
def generated(db, columnar, make_contract) -> dict[str, Any]:
    """2,000 generated contracts, plus a few that exercise notice titles and name case."""
    contracts_generate(count=2000, seed=11)
    make_contract(
        reference_id="EXTRA-1",
        title="Supply of medicines",
        notice_title="Road widening, phase 2",
        contractor="alpha builders",
        area="Abra, Agusan Del Norte, Aklan",
        amount="1234.56",
        award_date="2023-03-04",
    )
    make_contract(
        reference_id="EXTRA-2",
        title="Concreting of ROAD to the port",
        notice_title="",
        contractor="Alpha Builders",
        area="Northern Samar",
        amount="0.05",
        award_date="2024-11-30",
    )
    make_contract(
        reference_id="EXTRA-3",
        title="Office chairs",
        notice_title="Office chairs and road signs",
        contractor="zeta trading",
        area=None,
        business_category=None,
        amount="99999999.99",
        award_date="2021-01-01",
    )
    # Where procuring entities are, as an import sets it (generated rows have no place): a
    # fifth of the rows each, one region in two spellings, and a fifth with none.
    ids = list(Contract.objects.order_by("id").values_list("id", flat=True))
    places = [("Region VII", "Cebu"), ("NCR", "Metro Manila"), ("region vii", "Bohol"), ("XI", "Davao")]
    for offset, (region, province) in enumerate(places):
        Contract.objects.filter(id__in=ids[offset::5]).update(
            organization_region=region, organization_province=province
        )
    DatasetVersion.bump()  # the extra rows are a new version of the data
    assert build_snapshot() is not None
    counts = (
        Contract.objects.values("contractor__name").annotate(n=Count("id")).order_by("-n", "contractor__name")
    )
    names = {
        "contractor": counts[0]["contractor__name"],
        "organization": Organization.objects.order_by("id").values_list("name", flat=True)[3],
        "category": BusinessCategory.objects.order_by("id").values_list("name", flat=True)[1],
    }
    return names


@pytest.fixture
def both_engines(columnar) -> Callable[[Callable[[], Any]], tuple[Any, Any]]:
    """Run a selector call once on the snapshot and once on the database; return both answers.

    The columnar answer must come from the snapshot alone: the database sees only the one
    query that reads the dataset version.
    """

    def run(call: Callable[[], Any]) -> tuple[Any, Any]:
        with CaptureQueriesContext(connection) as queries:
            from_snapshot = call()
        assert len(queries) == 1, [q["sql"] for q in queries]
        with override_settings(COLUMNAR_ENABLED=False):
            from_database = call()
        return from_snapshot, from_database

    return run
