"""The red-flag analyses and the treemap give one set of answers from the columnar snapshot
and from the database, for every kind of chip (the same filter sets as the other selectors)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import override_settings

from contracts.selectors.red_flags import benford, rounding, value_distribution
from contracts.selectors.treemap import value_treemap

from .test_one_set_of_answers import filter_sets

ANALYSES = {
    "linear histogram": lambda f: value_distribution(filters=f, bins=37, band_percent=Decimal("5")),
    "log histogram": lambda f: value_distribution(filters=f, bins=1000, scale="log"),
    "benford": lambda f: benford(filters=f),
    "rounding": lambda f: rounding(filters=f),
}


@pytest.mark.parametrize("analysis", list(ANALYSES))
def test_each_analysis_reads_only_the_snapshot_and_agrees_with_the_database(
    generated, both_engines, analysis
):
    for name, filters in filter_sets(generated).items():
        from_snapshot, from_database = both_engines(lambda f=filters: ANALYSES[analysis](f))
        assert from_snapshot == from_database, name


def test_the_treemap_agrees(generated, columnar):
    for name, filters in filter_sets(generated).items():
        from_snapshot = value_treemap(filters=filters, categories=5, contractors=3)
        with override_settings(COLUMNAR_ENABLED=False):
            from_database = value_treemap(filters=filters, categories=5, contractors=3)
        assert from_snapshot == from_database, name
