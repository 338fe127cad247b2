"""The life of a columnar snapshot: built after commit and lazily, swapped, locked, cleaned up."""

from __future__ import annotations

import csv
import dataclasses
import fcntl
import io
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from contracts.columnar import build_snapshot, serving, snapshot_cursor
from contracts.columnar import snapshot as snapshot_module
from contracts.columnar.serving import open_snapshots
from contracts.filters import ContractFilters
from contracts.generating.service import ExistingContracts, contracts_generate
from contracts.models import DatasetVersion
from contracts.selectors import contract_aggregates, entity_table
from test.support.sqlite_demo import sqlite_demo_env

ROOT = Path(__file__).resolve().parents[3]


def snapshots(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.rglob("*.duckdb"))


@pytest.mark.django_db(transaction=True)
def test_each_generate_builds_its_snapshot_after_commit_and_the_old_one_goes_once_unused(columnar):
    contracts_generate(count=300, seed=3)
    first = snapshots(columnar.COLUMNAR_DIR)
    assert len(first) == 1 and "-v2-" in first[0]
    with snapshot_cursor() as cursor:
        assert cursor.execute("SELECT count(*) FROM contracts").fetchone()[0] == 300
        contracts_generate(count=200, seed=4, existing=ExistingContracts.REPLACE)
        # The query that started on the old snapshot finishes on it.
        assert cursor.execute("SELECT count(*) FROM contracts").fetchone()[0] == 300
    second = snapshots(columnar.COLUMNAR_DIR)
    assert len(second) == 2 and "-v2-" in second[0] and "-v3-" in second[1]  # v2 is still open here
    with snapshot_cursor() as cursor:
        assert cursor.execute("SELECT count(*) FROM contracts").fetchone()[0] == 200
    # Superseded and unused: closed, and deleted as nobody else holds it.
    assert snapshots(columnar.COLUMNAR_DIR) == second[1:]
    assert open_snapshots() == {second[1]: 0}


@pytest.mark.django_db(transaction=True)
def test_a_process_without_the_snapshot_answers_from_the_database_and_builds_it(columnar):
    columnar.COLUMNAR_BUILD_ON_COMMIT = False
    contracts_generate(count=300, seed=5)
    assert snapshots(columnar.COLUMNAR_DIR) == []

    with CaptureQueriesContext(connection) as queries:
        answer = contract_aggregates(filters=ContractFilters(), top_n=3)
    assert answer["summary"]["count"] == 300
    assert len(queries) > 1  # the database answered
    snapshot_module._builder.join(timeout=60)
    assert len(snapshots(columnar.COLUMNAR_DIR)) == 1

    with CaptureQueriesContext(connection) as queries:
        assert contract_aggregates(filters=ContractFilters(), top_n=3) == answer
    assert len(queries) == 1  # only the dataset version: the snapshot answered


@pytest.mark.django_db(transaction=True)
def test_a_second_builder_does_not_collide_with_the_first(columnar):
    columnar.COLUMNAR_BUILD_ON_COMMIT = False
    contracts_generate(count=100, seed=6)
    directory = snapshot_module.snapshot_dir()
    directory.mkdir(parents=True)
    with open(directory / "build.lock", "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # another process is building
        assert build_snapshot(wait=False) is None
        fcntl.flock(held, fcntl.LOCK_UN)
    (directory / ".building-v1-0.duckdb").write_bytes(b"left by a builder that died")
    built = build_snapshot(wait=False)
    assert built is not None and built.exists()
    assert sorted(p.name for p in directory.iterdir()) == ["build.lock", built.name]


@pytest.mark.django_db(transaction=True)
def test_a_serving_cursor_starts_with_the_engine_settings(columnar):
    contracts_generate(count=50, seed=7)
    with snapshot_cursor() as cursor:
        threshold, progress_bar = cursor.execute(
            "SELECT current_setting('perfect_ht_threshold'), current_setting('enable_progress_bar')"
        ).fetchone()
    assert (threshold, progress_bar) == (snapshot_module.PERFECT_HASH_BITS, False)


@pytest.mark.django_db(transaction=True)
def test_the_ids_a_chip_names_are_remembered_by_one_snapshot_only(columnar, make_contract):
    contracts_generate(count=200, seed=8)
    chip = ContractFilters(contractors=("  newly  Registered builders ",))
    assert entity_table(filters=chip, entity_type="contractor")["pagination"]["total_count"] == 0
    (first,) = serving._opened.values()
    assert first.memo[("ids", "contractor", ("NEWLY REGISTERED BUILDERS",))] == ()

    new = make_contract(reference_id="NEW-1", contractor="Newly Registered Builders", amount="10.00")
    DatasetVersion.bump()  # the snapshot of the new version is built after commit
    table = entity_table(filters=chip, entity_type="contractor")
    assert [(row["name"], row["contract_count"]) for row in table["results"]] == [
        ("Newly Registered Builders", 1)
    ]
    (second,) = serving._opened.values()
    assert second is not first
    assert second.memo[("ids", "contractor", ("NEWLY REGISTERED BUILDERS",))] == (new.contractor_id,)
    assert second.memo[("name", "contractor", new.contractor_id)] == "Newly Registered Builders"


def test_no_data_version_means_no_snapshot(db, columnar):
    assert build_snapshot() is None
    with snapshot_cursor() as cursor:
        assert cursor is None


def test_the_sqlite_of_make_run_builds_and_serves_a_snapshot(tmp_path):
    """make run's default database: generate, then the same answers from both engines."""
    env = sqlite_demo_env(tmp_path)
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
    subprocess.run(
        [*manage, "generate_contracts", "--count", "1500", "--seed", "9", "--no-progress"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    assert len(snapshots(tmp_path / "columnar")) == 1
    script = """
import django, json
django.setup()
from django.test import override_settings
from contracts.filters import ContractFilters
from contracts.selectors import contract_aggregates, entity_table
from contracts.columnar import snapshot_cursor
with snapshot_cursor() as cursor:
    assert cursor is not None
f = ContractFilters(areas=("Samar",), keywords=("supply",))
calls = [lambda: contract_aggregates(filters=f, top_n=5),
         lambda: entity_table(filters=ContractFilters(), entity_type="area", ordering="-name")]
out = []
for call in calls:
    first = call()
    with override_settings(COLUMNAR_ENABLED=False):
        out.append(first == call())
print(json.dumps(out))
"""
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    )
    assert result.stdout.strip() == "[true, true]"


def test_a_failed_background_build_is_retried_later_and_later_but_a_new_version_at_once(monkeypatch):
    """A build that fails (a full disk, a row too long to load) leaves the database answering;
    queries do not start another before RETRY_AFTER_FAILURE_SECONDS, then twice as long after
    each further failure; the build of a newer version starts at once."""
    attempts = []

    def failing_build(*, wait: bool = True) -> None:
        attempts.append(wait)
        raise OSError("No space left on device")

    monkeypatch.setattr(snapshot_module, "build_snapshot", failing_build)
    monkeypatch.setattr(
        snapshot_module, "connections", type("NoConnections", (), {"close_all": staticmethod(lambda: None)})
    )
    monkeypatch.setattr(snapshot_module, "_failure", None)

    def start_and_wait(key: str = "layout3-l1-v2-1") -> None:
        snapshot_module.start_background_build(key)
        if snapshot_module._builder is not None:
            snapshot_module._builder.join(timeout=10)

    def seconds_pass(seconds: float) -> None:
        earlier = dataclasses.replace(snapshot_module._failure, at=snapshot_module._failure.at - seconds)
        monkeypatch.setattr(snapshot_module, "_failure", earlier)

    start_and_wait()
    start_and_wait()
    assert len(attempts) == 1
    seconds_pass(31)
    start_and_wait()
    assert len(attempts) == 2
    seconds_pass(31)  # the second failure holds it back for 60 s
    start_and_wait()
    assert len(attempts) == 2
    seconds_pass(30)
    start_and_wait()
    assert len(attempts) == 3 and snapshot_module._failure.count == 3
    seconds_pass(119)  # the third: 120 s
    start_and_wait()
    assert len(attempts) == 3
    seconds_pass(2)
    start_and_wait()
    assert len(attempts) == 4
    # However many failures, never more than RETRY_AFTER_FAILURE_MAX_SECONDS.
    many = dataclasses.replace(snapshot_module._failure, count=5000)
    monkeypatch.setattr(snapshot_module, "_failure", many)
    seconds_pass(snapshot_module.RETRY_AFTER_FAILURE_MAX_SECONDS - 1)
    start_and_wait()
    assert len(attempts) == 4
    seconds_pass(2)
    start_and_wait()
    assert len(attempts) == 5
    start_and_wait("layout3-l1-v3-2")  # new data: at once
    assert len(attempts) == 6 and snapshot_module._failure.count == 1


@pytest.mark.django_db(transaction=True)
def test_a_row_longer_than_duckdbs_default_csv_line_is_in_the_snapshot(columnar, make_contract):
    """DuckDB's CSV reader refuses a line over 2 MB unless told: one long title failed the build."""
    make_contract(reference_id="LONG", title="road " + "x" * 3_000_000)
    make_contract(reference_id="SHORT", title="bridge")
    DatasetVersion.bump()

    build_snapshot()

    with snapshot_cursor() as cursor:
        lengths = cursor.execute("SELECT reference_id, length(title) FROM contracts ORDER BY 1").fetchall()
    assert lengths == [("LONG", 3_000_005), ("SHORT", 6)]


@pytest.mark.django_db(transaction=True)
def test_the_keyword_copy_of_a_notice_title_is_kept_only_where_it_differs(columnar, make_contract):
    """A keyword scan reads both upper-case copies; one that repeats the title is left empty."""
    make_contract(reference_id="SAME", title="Road lights", notice_title="ROAD lights")
    make_contract(reference_id="OTHER", title="Lot 2", notice_title="Farm-to-market road")
    make_contract(reference_id="NONE", title="Bridge", notice_title="")
    DatasetVersion.bump()

    build_snapshot()

    with snapshot_cursor() as cursor:
        rows = cursor.execute(
            "SELECT reference_id, notice_title, utitle, unotice FROM contracts ORDER BY 1"
        ).fetchall()
    assert rows == [
        ("NONE", "", "BRIDGE", ""),
        ("OTHER", "Farm-to-market road", "LOT 2", "FARM-TO-MARKET ROAD"),
        ("SAME", "ROAD lights", "ROAD LIGHTS", ""),
    ]


def test_csv_reader_sizes_fit_the_longest_row_and_no_more():
    default_line, default_buffer = 2 * 2**20, 32 * 2**20
    assert snapshot_module.csv_reader_sizes(0) == (default_line, default_buffer)
    assert snapshot_module.csv_reader_sizes(300) == (default_line, default_buffer)
    line, buffer = snapshot_module.csv_reader_sizes(3_000_017)
    assert line == 3_000_017 and buffer == default_buffer
    line, buffer = snapshot_module.csv_reader_sizes(40_000_000)
    assert line == 40_000_000 and buffer > line


@pytest.mark.django_db(transaction=True)
def test_a_dump_larger_than_duckdbs_memory_limit_is_read_in_buffers(columnar, make_contract, tmp_path):
    """DuckDB reads a CSV file whole when its buffer would be larger than the file: sized for
    1 GB rows, at 5.5M rows that was a block past the memory limit, and every build failed."""
    make_contract(reference_id="FIRST", title="road " + "x" * 1000)
    make_contract(reference_id="SECOND", title="bridge")
    DatasetVersion.bump()
    dumped = snapshot_module._dump(tmp_path, tmp_path / "snapshots")
    contracts_csv = tmp_path / "contracts.csv"
    first = contracts_csv.read_bytes().splitlines(keepends=True)[0]
    _, rest = first.split(b",", 1)
    copies = 200_000  # about 220 MB of rows, past the 128MB limit below
    with open(contracts_csv, "ab") as out:
        out.writelines(b"%d,%s" % (10_000_000 + n, rest) for n in range(copies))
    columnar.COLUMNAR_MEMORY_LIMIT = "128MB"
    longest = dumped.longest_rows["contracts"] + 8  # the copies' longer ids
    assert longest >= len(first) + 8

    rows = snapshot_module._read_csv(contracts_csv, snapshot_module._CONTRACT_COLUMNS, longest)
    with duckdb.connect(config=snapshot_module.duckdb_config()) as db:
        assert db.execute(f"SELECT count(*), max(length(title)) FROM {rows}").fetchone() == (copies + 2, 1005)


def test_rows_written_through_csv_are_measured_in_utf8_bytes():
    """What the SQLite dump and the area entries measure their longest row with."""
    out = io.StringIO()
    measured = snapshot_module._RowLengths(out)
    rows = [(1, "Pañuelo, Ñ"), (2, 'a "quoted"\nline break'), (3, "ok")]
    csv.writer(measured).writerows(rows)
    lines = [csv_line.encode() for csv_line in out.getvalue().split("\r\n") if csv_line]
    assert measured.longest == max(len(line) for line in lines) + len("\r\n")
    assert measured.longest == len('2,"a ""quoted""\nline break"\r\n')
