"""A bulk import killed mid-load leaves the contract table without its indexes and foreign
keys; the next import, `migrate` and `manage.py repair_indexes` build them again."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection, connections, transaction
from table_structure import contract_table_structure

from contracts.importing.loader import contracts_import
from contracts.indexes import BULK_LOAD_LOCK, indexes_dropped, repair_dropped_indexes
from contracts.models import Contract, DroppedIndex

ROOT = Path(__file__).resolve().parents[2]
NEWER = Path(__file__).parent / "importing" / "fixtures" / "bid_award_details_2024.csv"
HEADER = "Award No.,Award Title,Awardee Corporate Title,Organization Name,Contract Amount,Award Date\n"

pytestmark = pytest.mark.django_db(transaction=True)


def import_subprocess(path: Path) -> subprocess.Popen:
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    command = [sys.executable, "manage.py", "import_contracts", str(path), "--batch-size=500"]
    command.append("--no-progress")
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def wait_for(condition, *, seconds: float = 120.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "gave up waiting"
        time.sleep(0.05)


def test_an_import_killed_mid_load_is_repaired_by_the_next_import(tmp_path):
    before = contract_table_structure()
    export = tmp_path / "export.csv"
    rows = (f"{n},Road {n},ACME {n % 50},DPWH,100,01/01/2024\n" for n in range(1, 400_001))
    export.write_text(HEADER + "".join(rows))

    load = import_subprocess(export)
    try:
        # Loading, with the indexes dropped: kill it as the OOM killer or a lost machine would.
        wait_for(lambda: Contract.objects.count() > 0 or load.poll() is not None)
        assert load.poll() is None, load.stderr.read().decode()
        os.kill(load.pid, signal.SIGKILL)
    finally:
        load.wait()
    connections.close_all()  # the killed session's lock and transaction are gone with it

    broken = contract_table_structure()
    assert broken < before  # indexes and foreign keys missing, primary and unique keys kept
    assert {name for name, _ in before - broken} == set(DroppedIndex.objects.values_list("name", flat=True))
    assert 0 < Contract.objects.count() < 400_000

    with NEWER.open("rb") as f:
        contracts_import(f)

    assert contract_table_structure() == before
    assert not DroppedIndex.objects.exists()


def drop_as_a_killed_load_would() -> None:
    with transaction.atomic():
        indexes_dropped(Contract)


def test_the_repair_command_and_migrate_build_what_is_missing():
    before = contract_table_structure()
    drop_as_a_killed_load_would()
    missing = before - contract_table_structure()
    assert len(missing) == 11  # 7 indexes (one of them trigram), 4 foreign keys

    out = io.StringIO()
    call_command("repair_indexes", stdout=out)

    assert contract_table_structure() == before
    assert "Rebuilt 11: " in out.getvalue()
    assert not DroppedIndex.objects.exists()

    drop_as_a_killed_load_would()
    call_command("migrate", verbosity=0)  # every start-up migrates
    assert contract_table_structure() == before


def test_no_repair_under_a_bulk_load_that_is_still_running():
    drop_as_a_killed_load_would()
    dropped = contract_table_structure()
    with connection.cursor() as cursor:  # this session plays the running load
        cursor.execute("SELECT pg_advisory_lock(%s)", [BULK_LOAD_LOCK])

    def repair_elsewhere() -> list[str]:
        from threading import Thread

        repaired: list[str] = []
        thread = Thread(target=lambda: (repaired.extend(repair_dropped_indexes()), connections.close_all()))
        thread.start()
        thread.join()
        return repaired

    try:
        assert repair_elsewhere() == []
        assert contract_table_structure() == dropped
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [BULK_LOAD_LOCK])
    assert len(repair_elsewhere()) == 11  # the load is over (its lock released): now it repairs
    assert not DroppedIndex.objects.exists()


def test_a_bulk_import_outside_a_transaction_rebuilds_on_two_connections_and_forgets_its_record():
    before = contract_table_structure()

    with NEWER.open("rb") as f:
        summary = contracts_import(f)  # an empty table: the bulk path, committed batch by batch

    assert summary.created == 5
    assert contract_table_structure() == before
    assert not DroppedIndex.objects.exists()
