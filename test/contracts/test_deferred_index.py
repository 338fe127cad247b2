"""A bulk import leaves the trigram index to a build after it returns (IMPORT_TRIGRAM_INDEX):
everything else is back when it returns, keyword search answers meanwhile, and the deferred
build (a worker's, CONCURRENTLY) brings the table back to its full structure."""

from __future__ import annotations

import io
import logging
import threading
import time
from pathlib import Path

import psycopg
import pytest
from django.core.management import call_command
from django.db import connection, connections, transaction
from job_helpers import point_celery_at
from table_structure import contract_table_structure

from contracts.filters import ContractFilters, filter_contracts
from contracts.importing.loader import contracts_import
from contracts.indexes import build_deferred_indexes, indexes_dropped, repair_dropped_indexes
from contracts.models import Contract, DroppedIndex

NEWER = Path(__file__).parent / "importing" / "fixtures" / "bid_award_details_2024.csv"
TRIGRAM = "contract_title_trgm"

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _every_index_back_after():
    """A test that fails part-way must not leave the next tests without the index."""
    yield
    repair_dropped_indexes()


def missing_from(before: set[tuple[str, str]]) -> set[str]:
    return {name for name, _ in before - contract_table_structure()}


def test_a_bulk_import_returns_without_the_trigram_index_and_the_deferred_build_adds_it(settings):
    settings.IMPORT_TRIGRAM_INDEX = "later"
    before = contract_table_structure()

    with NEWER.open("rb") as f:
        summary = contracts_import(f)  # an empty table: the bulk path

    assert summary.created == 5
    assert summary.indexes_pending == [TRIGRAM]
    assert missing_from(before) == {TRIGRAM}  # btrees and foreign keys are back
    assert list(DroppedIndex.objects.values_list("name", flat=True)) == [TRIGRAM]
    # Keyword search answers meanwhile (a scan: it ORs the notice title, which has no index).
    assert filter_contracts(ContractFilters(keywords=("road",))).count() == 1

    assert build_deferred_indexes() == [TRIGRAM]

    assert contract_table_structure() == before
    assert not DroppedIndex.objects.exists()
    assert build_deferred_indexes() == []  # one query when nothing is missing


def test_the_next_import_leaves_a_pending_trigram_index_to_the_deferred_build(settings):
    settings.IMPORT_TRIGRAM_INDEX = "later"
    before = contract_table_structure()
    with NEWER.open("rb") as f:
        contracts_import(f)

    with NEWER.open("rb") as f:
        summary = contracts_import(f)  # unchanged: not bulk, and no 25 s build before it starts

    assert summary.unchanged == 5
    assert missing_from(before) == {TRIGRAM}
    assert repair_dropped_indexes() == [TRIGRAM]  # `repair_indexes` and `migrate` build it
    assert contract_table_structure() == before


def test_a_killed_concurrent_build_is_built_again_valid():
    before = contract_table_structure()
    with transaction.atomic():
        indexes_dropped(Contract)
    with connection.cursor() as cursor:
        # What a CREATE INDEX CONCURRENTLY killed part-way leaves: the index, marked invalid.
        definition = DroppedIndex.objects.get(name=TRIGRAM).definition
        cursor.execute(definition)
        cursor.execute("UPDATE pg_index SET indisvalid = false WHERE indexrelid = %s::regclass", [TRIGRAM])

    assert TRIGRAM in build_deferred_indexes()  # with the btrees and foreign keys dropped beside it

    assert contract_table_structure() == before
    with connection.cursor() as cursor:
        cursor.execute("SELECT indisvalid FROM pg_index WHERE indexrelid = %s::regclass", [TRIGRAM])
        assert cursor.fetchone() == (True,)


@pytest.mark.integration
@pytest.mark.usefixtures("celery_worker_process")
def test_by_default_a_worker_builds_the_trigram_index_after_the_import(settings, caplog):
    settings.IMPORT_TRIGRAM_INDEX = "worker"
    before = contract_table_structure()

    with caplog.at_level(logging.INFO, logger="contracts.indexes"), NEWER.open("rb") as f:
        contracts_import(f)

    # The index is listed from the moment CREATE INDEX CONCURRENTLY starts; the build is
    # done when its record is gone too (the worker deletes it after the build).
    deadline = time.monotonic() + 60
    while contract_table_structure() != before or DroppedIndex.objects.exists():
        assert time.monotonic() < deadline, "no worker built the trigram index"
        time.sleep(0.1)
    with connection.cursor() as cursor:
        cursor.execute("SELECT indisvalid FROM pg_index WHERE indexrelid = %s::regclass", [TRIGRAM])
        assert cursor.fetchone() == (True,)
    # Neither "could not queue" nor a build in this process.
    assert not [record for record in caplog.records if record.name == "contracts.indexes"]


def test_with_the_broker_down_the_importing_process_builds_the_trigram_index_itself(settings, caplog):
    from config.celery_app import app

    settings.IMPORT_TRIGRAM_INDEX = "worker"
    before = contract_table_structure()
    broker = app.conf.broker_url
    point_celery_at("redis://127.0.0.1:1/0")  # nothing listens there
    try:
        with caplog.at_level(logging.WARNING, logger="contracts.indexes"), NEWER.open("rb") as f:
            summary = contracts_import(f)
    finally:
        point_celery_at(broker)

    assert summary.created == 5
    assert "could not queue the deferred index build" in caplog.text
    assert contract_table_structure() == before  # built before the import returned
    assert not DroppedIndex.objects.exists()


def test_the_command_says_which_indexes_are_still_to_build(settings):
    settings.IMPORT_TRIGRAM_INDEX = "later"
    out = io.StringIO()

    call_command("import_contracts", str(NEWER), "--no-progress", stdout=out, stderr=io.StringIO())

    assert f"Indexes still to build: {TRIGRAM} (`manage.py repair_indexes` builds them;" in out.getvalue()


def test_a_bulk_import_waits_for_a_concurrent_build_and_neither_deadlocks(settings, tmp_path):
    settings.IMPORT_TRIGRAM_INDEX = "later"
    with NEWER.open("rb") as f:
        contracts_import(f)  # 5 contracts, the trigram index left to build
    header = "Award No.,Award Title,Awardee Corporate Title,Organization Name,Contract Amount,Award Date\n"
    export = tmp_path / "more.csv"
    export.write_text(header + "".join(f"{n},Road {n},ACME,DPWH,100,01/01/2024\n" for n in range(1, 51)))
    db = connection.settings_dict
    blocker = psycopg.connect(host=db["HOST"], port=db["PORT"], user=db["USER"], dbname=db["NAME"])
    # A writer's open transaction: the concurrent build waits for it, holding the bulk-load lock.
    first = "SELECT min(id) FROM contracts_contract"
    blocker.execute(f"UPDATE contracts_contract SET title = title WHERE id = ({first})")
    results: dict[str, object] = {}

    def run(name: str, job) -> threading.Thread:
        def target() -> None:
            try:
                results[name] = job()
            except BaseException as error:
                results[name] = error
            finally:
                connections.close_all()

        thread = threading.Thread(target=target)
        thread.start()
        return thread

    build = run("build", build_deferred_indexes)
    try:
        wait_until(lambda: building_concurrently())
        load = run("import", lambda: contracts_import(export.open("rb")))  # bulk: 50 new rows onto 5
        time.sleep(1.5)  # the import now waits for the lock (PostgreSQL's deadlock_timeout is 1 s)
        assert "import" not in results
    finally:
        blocker.commit()
        blocker.close()
    build.join(60)
    load.join(60)

    assert results["build"] == [TRIGRAM]
    assert not isinstance(results["import"], BaseException), results["import"]
    assert results["import"].created == 50


def building_concurrently() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'CREATE INDEX CONCURRENTLY%%'")
        return cursor.fetchone()[0] == 1


def wait_until(condition, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "gave up waiting"
        time.sleep(0.05)


def test_the_deferred_build_is_queued_with_exports_not_with_interactive_jobs():
    """A build of ~25 s per million titles would hold an interactive worker process."""
    from config.celery_app import app

    assert app.amqp.router.route({}, "contracts.build_deferred_indexes")["queue"].name == "exports"
    assert app.amqp.router.route({}, "data_processing.run_job")["queue"].name == "interactive"
