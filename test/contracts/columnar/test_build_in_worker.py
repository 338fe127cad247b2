"""After an import commits, a worker builds the new snapshot: the import ends at its commit."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest

from contracts.columnar import snapshot_cursor
from contracts.columnar.snapshot import SUFFIX, current_key, snapshot_dir
from contracts.importing.loader import contracts_import

NEWER = Path(__file__).parents[1] / "importing" / "fixtures" / "bid_award_details_2024.csv"


@pytest.mark.integration
@pytest.mark.usefixtures("celery_worker_process")
@pytest.mark.django_db(transaction=True)
def test_an_import_queues_the_snapshot_build_to_a_worker(settings, caplog):
    # The worker reads the same settings: the snapshot directory of the test database.
    settings.COLUMNAR_ENABLED = True
    settings.COLUMNAR_BUILD_IN_WORKER = True

    with caplog.at_level(logging.INFO, logger="contracts.columnar.snapshot"), NEWER.open("rb") as f:
        contracts_import(f)

    # Neither "could not queue" nor a build in this process.
    assert not [record for record in caplog.records if record.name == "contracts.columnar.snapshot"]
    target = snapshot_dir() / f"{current_key()}{SUFFIX}"
    deadline = time.monotonic() + 60
    while not target.exists():
        assert time.monotonic() < deadline, "no worker built the snapshot"
        time.sleep(0.1)
    with snapshot_cursor() as cursor:
        assert cursor is not None
        assert cursor.execute("SELECT count(*) FROM contracts").fetchone()[0] == 5
