"""The contract export's rows: the same file from the snapshot as from the database."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from contracts.columnar import build_snapshot, serving
from contracts.csv_format import csv_lines
from contracts.filters import ContractFilters
from contracts.models import DatasetVersion
from contracts.selectors import contract_export
from contracts.selectors.contract_export import contract_export_rows, day_batches
from data_processing.exceptions import JobCancelled
from data_processing.exports import export_contracts

from .test_one_set_of_answers import filter_sets


def exported(filters: ContractFilters) -> str:
    return "".join(csv_lines(contract_export_rows(filters=filters)))


@pytest.mark.parametrize("rows_per_batch", [200_000, 7])
def test_the_export_is_the_same_file_from_either_engine(generated, both_engines, monkeypatch, rows_per_batch):
    monkeypatch.setattr(contract_export, "ROWS_PER_BATCH", rows_per_batch)
    for name, filters in filter_sets(generated).items():
        from_snapshot, from_database = both_engines(lambda f=filters: exported(f))
        assert from_snapshot == from_database, name
    assert exported(ContractFilters()).count("\n") > 2000


def test_text_money_and_missing_names_survive_the_snapshot(
    make_contract, columnar, both_engines, monkeypatch
):
    monkeypatch.setattr(contract_export, "ROWS_PER_BATCH", 2)
    same_day = "2024-02-29"
    make_contract(reference_id="R1", title='Line one\nline two, "quoted"', award_date=same_day, amount="0.05")
    make_contract(reference_id="R2", title="=SUM(A1)", award_date=same_day, area=None, business_category=None)
    make_contract(reference_id="R3", title="  spaces kept  ", award_date=same_day, approved_budget=None)
    make_contract(reference_id="R4", title="Ñoño \u2013 日本", award_date="2013-01-02", amount="99999999.99")
    make_contract(
        reference_id="R5", title="", award_date="2025-12-31", amount="1234.50", approved_budget="10"
    )
    DatasetVersion.bump()
    assert build_snapshot() is not None

    from_snapshot, from_database = both_engines(lambda: exported(ContractFilters()))

    assert from_snapshot == from_database
    rows = list(contract_export_rows(filters=ContractFilters()))
    assert [row[0] for row in rows] == ["R4", "R1", "R2", "R3", "R5"]  # by date, then id
    assert (str(rows[1][-1]), str(rows[4][-1]), str(rows[4][-2])) == ("0.05", "1234.50", "10.00")
    assert rows[2][5:7] == (None, None)  # no area, no category
    assert rows[3][-2] is None  # no approved budget


def test_an_export_stopped_midway_lets_go_of_its_snapshot_at_once(generated, settings, tmp_path):
    """A job holds the snapshot while it writes; cancelled midway, it must not hold it on
    (a superseded snapshot's file is deleted only once nobody reads it)."""
    settings.MEDIA_ROOT = tmp_path

    def cancelled(done: int, total: int, message: str) -> None:
        assert serving.open_snapshots() != {} and max(serving.open_snapshots().values()) == 1
        raise JobCancelled("stopped")

    with pytest.raises(JobCancelled):
        export_contracts(job_id="stopped", attempt=1, filters=ContractFilters(), on_progress=cancelled)

    assert list(serving.open_snapshots().values()) == [0]


def test_a_snapshot_that_fails_before_the_first_row_leaves_the_export_to_the_database(
    generated, monkeypatch, caplog
):
    filters = ContractFilters(keywords=("road",))
    expected = exported(filters)

    def out_of_memory(cursor, filters):
        raise duckdb.OutOfMemoryException("could not allocate block")

    monkeypatch.setattr(contract_export._Batches, "planned", out_of_memory)

    assert exported(filters) == expected
    assert "the database writes it" in caplog.text


@pytest.mark.django_db(transaction=True)
def test_an_older_versions_snapshot_never_writes_the_export(columnar, make_contract, monkeypatch):
    columnar.COLUMNAR_BUILD_ON_COMMIT = False
    monkeypatch.setattr(serving, "start_background_build", lambda key: None)
    make_contract(reference_id="A", title="road one")
    DatasetVersion.bump()
    assert build_snapshot() is not None
    make_contract(reference_id="B", title="road two")
    DatasetVersion.bump()  # no snapshot of this version: the older one answers charts

    rows = list(contract_export_rows(filters=ContractFilters(keywords=("road",))))

    assert sorted(row[0] for row in rows) == ["A", "B"]


def test_day_batches_hold_whole_days_and_at_most_so_many_rows():
    day = [dt.date(2024, 1, n) for n in range(1, 6)]
    counts = list(zip(day, [3, 5, 2, 10, 1], strict=True))
    assert list(day_batches(counts, 8)) == [
        (day[0], day[1]),
        (day[2], day[2]),
        (day[3], day[3]),
        (day[4], day[4]),
    ]
    assert list(day_batches(counts, 100)) == [(day[0], day[4])]
    assert list(day_batches([], 8)) == []
