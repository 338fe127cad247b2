"""A saved search's run figures (count, total, new since a watermark), an export's row
counts and the entity-table CSV, from either engine."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest

from contracts.columnar import build_snapshot, serving
from contracts.entities import BY_KEY, ENTITIES
from contracts.filters import ContractFilters
from contracts.models import Contract, DatasetVersion
from contracts.selectors.table_export import entity_export_lines, export_estimate
from contracts.selectors.totals import matching_count, matching_entity_count, matching_totals

from .test_one_set_of_answers import filter_sets


def test_matching_totals_are_identical(generated, both_engines):
    ids = list(Contract.objects.order_by("id").values_list("id", flat=True))
    for name, filters in filter_sets(generated).items():
        for since in (None, 0, ids[len(ids) // 2], ids[-4], ids[-1]):
            from_snapshot, from_database = both_engines(
                lambda f=filters, s=since: matching_totals(filters=f, since=s)
            )
            assert from_snapshot == from_database, (name, since)
            # The same digits too: a run's total is shown and stored as it comes.
            assert str(from_snapshot.total) == str(from_database.total), (name, since)
    everything = matching_totals(filters=ContractFilters(), since=ids[-4])
    assert (everything.watermark, everything.count, everything.new_count) == (ids[-1], len(ids), 3)


def test_export_counts_are_identical_and_what_the_export_writes(generated, both_engines):
    for name, filters in filter_sets(generated).items():
        from_snapshot, from_database = both_engines(lambda f=filters: matching_count(filters=f))
        assert from_snapshot == from_database == matching_totals(filters=filters).count, name
        for entity in ENTITIES:
            from_snapshot, from_database = both_engines(
                lambda f=filters, e=entity: matching_entity_count(filters=f, entity=e)
            )
            written = sum(1 for _ in entity_export_lines(filters=filters, entity_type=entity.key)) - 1
            assert from_snapshot == from_database == written, (name, entity.key)
    assert matching_entity_count(filters=ContractFilters(), entity=ENTITIES[0]) > 1


def test_the_entity_table_csv_is_the_same_file_from_either_engine(generated, both_engines):
    for name, filters in filter_sets(generated).items():
        for entity in ENTITIES:
            for ordering in ("-total_amount", "name", "-name", "average_amount", "-last_award_date"):
                from_snapshot, from_database = both_engines(
                    lambda f=filters, e=entity, o=ordering: "".join(
                        entity_export_lines(filters=f, entity_type=e.key, ordering=o)
                    )
                )
                assert from_snapshot == from_database, (name, entity.key, ordering)
                assert from_snapshot.count("\n") > 1 or name != "none", (name, entity.key)


def test_export_estimates_are_identical(generated, both_engines):
    for name, filters in filter_sets(generated).items():
        targets = [
            {"target": "contracts"},
            *({"target": "entity_table", "entity_type": e.key} for e in ENTITIES),
        ]
        for target in targets:
            from_snapshot, from_database = both_engines(
                lambda f=filters, t=target: export_estimate(filters=f, **t)
            )
            assert from_snapshot == from_database, (name, target)


@pytest.mark.django_db(transaction=True)
def test_an_older_versions_snapshot_never_counts_for_a_run_or_an_export(columnar, make_contract, monkeypatch):
    """While the current version's snapshot is not built yet, an older one answers charts;
    a run's watermark from it could fall behind one already recorded, and an export writes
    the current data, so the database counts."""
    columnar.COLUMNAR_BUILD_ON_COMMIT = False
    # No build of the new version meanwhile (serving starts one when it finds it missing).
    monkeypatch.setattr(serving, "start_background_build", lambda key: None)
    make_contract(reference_id="A", title="road one", amount="10.00", contractor="ALPHA WORKS")
    DatasetVersion.bump()
    assert build_snapshot() is not None
    newer = make_contract(reference_id="B", title="road two", amount="5.25", contractor="BETA WORKS")
    DatasetVersion.bump()  # no snapshot of this version: the older one answers queries

    road = ContractFilters(keywords=("road",))
    totals = matching_totals(filters=road, since=newer.id - 1)

    assert totals.watermark == newer.id
    assert (totals.count, totals.total, totals.new_count) == (2, Decimal("15.25"), 1)
    # What an export of the current data writes, not what the older snapshot holds.
    assert matching_count(filters=road) == 2
    assert matching_entity_count(filters=road, entity=BY_KEY["contractor"]) == 2
    exported = list(
        csv.reader(io.StringIO("".join(entity_export_lines(filters=road, entity_type="contractor"))))
    )
    assert sorted(row[0] for row in exported[1:]) == ["ALPHA WORKS", "BETA WORKS"]
