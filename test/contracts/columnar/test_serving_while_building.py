"""While the new version's snapshot builds, the previous one answers, labelled as such.

The build is held by taking its file lock (as another builder would), so the window between
the version bump and the swap lasts as long as the test wants.
"""

from __future__ import annotations

import fcntl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from contracts.columnar import answering, build_snapshot
from contracts.columnar import snapshot as snapshot_module
from contracts.columnar.serving import open_snapshots
from contracts.filters import ContractFilters
from contracts.generating.service import ExistingContracts, contracts_generate
from contracts.models import DatasetVersion
from contracts.selectors import contract_aggregates
from data_processing import result_cache, services
from data_processing.cache_keys import cache_key_for
from data_processing.kinds import ANALYTICS
from data_processing.models import Job, JobState

pytestmark = pytest.mark.django_db(transaction=True)


def snapshots(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.rglob("*.duckdb"))


def count() -> int:
    return contract_aggregates(filters=ContractFilters(), top_n=3)["summary"]["count"]


@contextmanager
def build_held() -> Iterator[threading.Thread]:
    """A builder of the current version, blocked on the build lock until the block ends;
    then it runs to completion (the swap) before the block returns."""
    directory = snapshot_module.snapshot_dir()
    with open(directory / "build.lock", "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)

        def build() -> None:
            try:
                build_snapshot(wait=True)
            finally:
                connections.close_all()

        builder = threading.Thread(target=build)
        builder.start()
        try:
            yield builder
        finally:
            fcntl.flock(held, fcntl.LOCK_UN)
            builder.join(timeout=60)


def half_built(key: str, rows: int) -> Path:
    """What an interrupted builder leaves: a partial file of the current version."""
    partial = snapshot_module.snapshot_dir() / f".building-{key}.duckdb"
    db = duckdb.connect(str(partial))
    db.execute(f"CREATE TABLE contracts AS SELECT range AS id FROM range({rows})")
    db.close()
    return partial


@pytest.fixture
def two_versions(columnar):
    """Version 2 (300 contracts) with its snapshot; then version 3 (200) with none yet."""
    columnar.COLUMNAR_BUILD_ON_COMMIT = False
    contracts_generate(count=300, seed=3)
    build_snapshot()
    assert count() == 300
    contracts_generate(count=200, seed=4, existing=ExistingContracts.REPLACE)
    return columnar


def test_during_the_build_the_old_snapshot_answers_then_the_new_one_and_the_old_file_goes(two_versions):
    directory = snapshot_module.snapshot_dir()
    [old] = snapshots(directory)
    key = snapshot_module.current_key()
    assert "-v2-" in old and "-v3-" in key
    with build_held() as builder:
        half_built(key, rows=999)
        for _ in range(3):
            with CaptureQueriesContext(connection) as queries, answering() as answer:
                assert count() == 300  # not the database's 200, not the half-built file's 999
            assert len(queries) == 1  # only the dataset version: a snapshot answered
            assert (answer.version, answer.current, answer.stale) == (2, 3, True)
        assert builder.is_alive()
        assert snapshots(directory) == sorted([old, f".building-{key}.duckdb"])
    assert not builder.is_alive()
    assert snapshots(directory) == sorted([old, f"{key}.duckdb"])  # the new one, and the old still open

    with answering() as answer:
        assert count() == 200
    assert (answer.version, answer.current, answer.stale) == (3, 3, False)
    # Superseded and unused: closed here and deleted, as no other process holds it.
    assert snapshots(directory) == [f"{key}.duckdb"]
    assert open_snapshots() == {f"{key}.duckdb": 0}


def test_an_answer_in_progress_finishes_on_its_version_across_the_swap(two_versions):
    directory = snapshot_module.snapshot_dir()
    key = snapshot_module.current_key()
    with answering() as answer:
        first = count()
        with build_held():
            pass  # the new snapshot is swapped in here
        assert (directory / f"{key}.duckdb").exists()
        second = count()
        assert open_snapshots()[snapshots(directory)[0]] == 1  # the answer's own hold on v2
    assert first == second == 300
    assert (answer.version, answer.current) == (2, 3)
    assert count() == 200
    assert snapshots(directory) == [f"{key}.duckdb"]


def test_with_no_snapshot_of_this_data_the_database_answers(columnar):
    columnar.COLUMNAR_BUILD_ON_COMMIT = False
    contracts_generate(count=300, seed=3)
    build_snapshot()
    # The database is emptied and filled again: a new line of versions, counted from 2 again.
    DatasetVersion.objects.all().delete()
    contracts_generate(count=200, seed=4, existing=ExistingContracts.REPLACE)
    assert DatasetVersion.current() == 2
    with build_held():
        with CaptureQueriesContext(connection) as queries, answering() as answer:
            assert count() == 200
        assert len(queries) > 1  # the database answered: the old line's file is not this data
        assert (answer.version, answer.current, answer.stale) == (2, 2, False)


def test_the_chip_endpoints_say_which_version_answered(two_versions, alice_client):
    url = reverse("chip-aggregates")
    with build_held():
        during = alice_client.post(url, {"filters": {}, "top_n": 3}, format="json")
    after = alice_client.post(url, {"filters": {}, "top_n": 3}, format="json")
    assert during.status_code == after.status_code == 200
    assert during.json()["summary"]["count"] == 300
    assert (during["X-Dataset-Version"], during["X-Dataset-Current-Version"]) == ("2", "3")
    assert after.json()["summary"]["count"] == 200
    assert (after["X-Dataset-Version"], after["X-Dataset-Current-Version"]) == ("3", "3")


def test_an_export_estimate_says_which_version_it_counted(two_versions, alice_client):
    url = reverse("export-estimate")
    with build_held():
        during = alice_client.post(url, {"filters": {}}, format="json")
    after = alice_client.post(url, {"filters": {}}, format="json")
    counted = during.json()["rows"], during["X-Dataset-Version"], during["X-Dataset-Current-Version"]
    assert counted == (300, "2", "3")
    assert (after.json()["rows"], after["X-Dataset-Version"]) == (200, "3")


def test_a_job_answered_by_the_old_snapshot_is_cached_briefly_and_says_so(two_versions, alice):
    two_versions.COLUMNAR_STALE_RESULT_SECONDS = 7
    payload = {"filters": {}, "top_n": 3}
    fingerprint = services.request_fingerprint(ANALYTICS, ANALYTICS.parse(payload), owner=alice)
    cache_key = cache_key_for(ANALYTICS.prefix, fingerprint, DatasetVersion.current())
    result_cache.redis_client().delete(cache_key)

    def run_job() -> Job:
        job = Job.objects.create(
            owner=alice, kind=ANALYTICS.name, params=payload, cache_key=cache_key, fingerprint=fingerprint
        )
        services.job_run(str(job.id))
        job.refresh_from_db()
        return job

    with build_held():
        stale = run_job()
        warmed = services.results_warm_defaults()
    assert stale.state == JobState.SUCCESS
    assert "dataset version 2" in stale.message and "version 3" in stale.message
    assert result_cache.result_get(cache_key)["summary"]["count"] == 300
    assert 0 < result_cache.redis_client().ttl(cache_key) <= 7
    # Beat does not warm the new version's keys with the old one's answers.
    assert not any(key.startswith(f"{ANALYTICS.prefix}:") for key in warmed)

    result_cache.redis_client().delete(cache_key)
    fresh = run_job()
    assert fresh.message == "Complete."
    assert result_cache.result_get(cache_key)["summary"]["count"] == 200
    assert result_cache.redis_client().ttl(cache_key) > 7
