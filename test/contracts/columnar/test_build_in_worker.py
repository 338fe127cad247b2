"""After an import commits, a worker builds the new snapshot: the import ends at its commit."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from contracts.columnar import snapshot_cursor
from contracts.importing.loader import contracts_import

NEWER = Path(__file__).parents[1] / "importing" / "fixtures" / "bid_award_details_2024.csv"


@pytest.mark.django_db(transaction=True)
def test_an_import_queues_the_snapshot_build_to_a_worker(columnar, worker_factory):
    columnar.COLUMNAR_BUILD_IN_WORKER = True
    worker = worker_factory(
        "columnar",
        queues="interactive",
        concurrency=1,
        extra_env={"TEST_COLUMNAR_ENABLED": "true", "COLUMNAR_DIR": str(columnar.COLUMNAR_DIR)},
    )

    with NEWER.open("rb") as f:
        summary = contracts_import(f)

    deadline = time.monotonic() + 60
    while "contracts.build_columnar_snapshot" not in worker.output() or "succeeded" not in worker.output():
        assert time.monotonic() < deadline, worker.output()[-3000:]
        time.sleep(0.1)
    assert f"-v{summary.dataset_version}-" in worker.output()  # the worker built this version
    with snapshot_cursor() as cursor:
        assert cursor is not None
        assert cursor.execute("SELECT count(*) FROM contracts").fetchone()[0] == 5
