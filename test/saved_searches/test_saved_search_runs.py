"""Saved searches running for real: through beat's database scheduler, and after an import,
each run an ordinary job, with exactly the new contracts and a websocket event for the owner."""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import time

import psycopg
import pytest
from django_celery_beat.models import PeriodicTask
from job_helpers import dsn, stored_job, wait_for_blocked_worker, wait_for_state, wait_until
from websockets.sync.client import connect

from contracts.importing.loader import contracts_import
from contracts.models import Contract
from data_processing.models import JobState
from saved_searches import services
from saved_searches.models import RunTrigger, SavedSearchRun
from saved_searches.tasks import queue_after_import_task, run_saved_search_task

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("celery_worker_process")]

CEBU_ROADS = {"filters": {"keywords": ["road"], "areas": ["Cebu"]}}


def open_socket(address: str, token: str):
    return connect(f"ws://{address}/ws/tasks/status/?token={token}", open_timeout=10)


def messages_of_type(ws, kind: str, *, seconds: float) -> list[dict]:
    """Every message of one type that arrives within the time given."""
    found = []
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        try:
            message = json.loads(ws.recv(timeout=left))
        except TimeoutError:
            break
        if message.get("type") == kind:
            found.append(message)
    return found


@pytest.fixture
def cebu_contracts(live_db, make_contract):
    make_contract(reference_id="OLD-1", title="Concreting of barangay road", area="Cebu", amount=1000)
    make_contract(reference_id="OLD-2", title="Office paper", area="Cebu", amount=500)
    make_contract(reference_id="OLD-3", title="Road widening", area="Metro Manila", amount=700)


def test_a_schedule_fires_through_beat_and_runs_a_job(alice, cebu_contracts, beat_process):
    saved = services.saved_search_create(
        owner=alice, name="Cebu roads", kind="search", request=CEBU_ROADS, every_seconds=2
    )

    run = wait_until(
        lambda: SavedSearchRun.objects.filter(saved_search=saved, trigger=RunTrigger.SCHEDULE).first(),
        timeout=60,
        what="beat to run the saved search",
    )
    job = wait_for_state(str(run.job_id), JobState.SUCCESS)
    assert job.owner == alice and job.kind == "search" and job.params == CEBU_ROADS
    assert run.matched_count == 1 and run.total_amount == 1000
    assert f"saved-search-{saved.id}" in beat_process.output()
    # The entries of CELERY_BEAT_SCHEDULE live on beside the saved searches' own.
    assert PeriodicTask.objects.filter(name="recover-lost-jobs", task="data_processing.recover_jobs").exists()


def test_an_import_reports_exactly_the_new_matching_contracts_to_their_owner_only(
    alice, bob, alice_client, cebu_contracts, asgi_server, export_csv
):
    saved = services.saved_search_create(
        owner=alice, name="Cebu roads", kind="search", request=CEBU_ROADS, run_after_import=True
    )
    first = services.saved_search_run(saved_search_id=saved.id, trigger=RunTrigger.MANUAL)
    assert (first.matched_count, first.new_count, first.since_watermark) == (1, 0, None)

    with (
        open_socket(asgi_server, alice.auth_token.key) as alice_ws,
        open_socket(asgi_server, bob.auth_token.key) as bob_ws,
    ):
        export = export_csv(
            [
                {
                    "ref": "NEW-1",
                    "title": "Construction of farm-to-market road",
                    "area": "Cebu",
                    "amount": "250000",
                },
                {"ref": "NEW-2", "title": "Road repair, phase 2", "area": "Cebu", "amount": "125000.50"},
                {"ref": "NEW-3", "title": "Road repair, phase 3", "area": "Metro Manila", "amount": "99"},
                {"ref": "NEW-4", "title": "Laptops", "area": "Cebu", "amount": "40000"},
            ]
        )
        summary = contracts_import(io.BytesIO(export))
        assert summary.imported == 4

        run = wait_until(
            lambda: SavedSearchRun.objects.filter(saved_search=saved, trigger=RunTrigger.IMPORT).first(),
            timeout=60,
            what="the after-import run",
        )
        alice_news = messages_of_type(alice_ws, "saved_search.news", seconds=10)
        bob_news = messages_of_type(bob_ws, "saved_search.news", seconds=2)

    assert run.new_count == 2
    assert (run.matched_count, run.count_change) == (3, 2)
    assert str(run.total_change) == "375000.50"
    new_page = alice_client.get(
        f"/api/v1/saved-searches/{saved.id}/runs/{run.id}/new-contracts/", {"ordering": "reference_id"}
    ).json()
    assert [row["reference_id"] for row in new_page["results"]] == ["NEW-1", "NEW-2"]
    assert new_page["pagination"]["total_count"] == 2

    assert [(m["saved_search_id"], m["run_id"], m["new_count"]) for m in alice_news] == [
        (saved.id, run.id, 2)
    ]
    assert bob_news == []

    # The run is an ordinary job of Alice's, in My jobs, and the saved search reports it.
    job = wait_for_state(str(run.job_id), JobState.SUCCESS)
    assert job.owner == alice
    listed = alice_client.get("/api/v1/data-processing/tasks/").json()
    assert str(job.id) in [j["task_id"] for j in listed["results"]]
    detail = alice_client.get(f"/api/v1/saved-searches/{saved.id}/").json()
    assert detail["latest_run"]["id"] == run.id
    assert detail["latest_run"]["new_count"] == 2
    assert detail["latest_run"]["job_state"] == JobState.SUCCESS
    assert detail["last_run"] is not None
    assert Contract.objects.filter(reference_id__startswith="NEW-").count() == 4


def test_after_an_import_runs_are_bounded_per_user_and_taken_in_turns(alice, bob, live_db, settings):
    settings.SAVED_SEARCH_IMPORT_RUNS_PER_USER = 2
    alices = [
        services.saved_search_create(
            owner=alice, name=f"A{i}", kind="search", request={"filters": {}}, run_after_import=True
        ).id
        for i in range(4)
    ]
    bobs = [
        services.saved_search_create(
            owner=bob, name=f"B{i}", kind="search", request={"filters": {}}, run_after_import=True
        ).id
        for i in range(2)
    ]
    services.saved_search_create(owner=bob, name="not after imports", kind="search", request={"filters": {}})

    order = services.saved_searches_after_import()

    assert len(order) == 4
    assert sorted(order) == sorted(alices[:2] + bobs)
    # In turns: never two of one user's searches before every user has had one.
    owners = ["a" if search_id in alices else "b" for search_id in order]
    assert owners in (["a", "b", "a", "b"], ["b", "a", "b", "a"])


def test_a_run_the_owner_may_not_submit_now_is_skipped_with_a_warning(alice, live_db, settings, caplog):
    """A schedule fires whatever the owner is doing: at their active-job limit the run waits
    for the next firing instead of failing the task with a traceback."""
    settings.JOB_MAX_ACTIVE_PER_USER = 1
    saved = services.saved_search_create(owner=alice, name="Roads", kind="search", request=CEBU_ROADS)
    stored_job(alice, "search", {"filters": {"keywords": ["busy"]}})  # queued: the limit is reached

    assert run_saved_search_task(saved.id) is None

    assert not SavedSearchRun.objects.filter(saved_search=saved).exists()
    assert "Saved search" in caplog.text and "not run" in caplog.text


def test_the_searches_of_a_deactivated_user_no_longer_run(alice, live_db):
    saved = services.saved_search_create(owner=alice, name="Roads", kind="search", request=CEBU_ROADS)
    alice.is_active = False
    alice.save(update_fields=["is_active"])

    assert services.saved_search_run(saved_search_id=saved.id, trigger=RunTrigger.SCHEDULE) is None
    assert services.saved_searches_after_import() == []
    assert not SavedSearchRun.objects.exists()


@contextlib.contextmanager
def locked(table: str):
    """Hold a table exclusively, so a task that reads it waits until the block ends."""
    with psycopg.connect(dsn()) as conn:
        conn.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
        yield
        conn.rollback()


def kill_pool_processes(worker) -> None:
    """SIGKILL the worker's pool processes and wait until they are gone (it starts others)."""
    killed = set(worker.children())
    for pid in killed:
        os.kill(pid, signal.SIGKILL)
    wait_until(lambda: not killed & set(worker.children()), what="the pool processes to go")


def test_a_firing_whose_worker_process_is_killed_mid_run_runs_again(
    alice, cebu_contracts, celery_worker_process
):
    saved = services.saved_search_create(owner=alice, name="Cebu roads", kind="search", request=CEBU_ROADS)

    with locked("contracts_contract"):
        run_saved_search_task.delay(saved.id, trigger=RunTrigger.SCHEDULE)
        wait_for_blocked_worker()  # the run counts the matching contracts inside its transaction
        kill_pool_processes(celery_worker_process)

    # The killed run's message was not acknowledged, so it comes back; its transaction died
    # with its connection, so it left no half-recorded run.
    run = wait_until(
        lambda: SavedSearchRun.objects.filter(saved_search=saved).first(), timeout=30, what="the run"
    )
    assert (run.trigger, run.matched_count) == (RunTrigger.SCHEDULE, 1)
    assert SavedSearchRun.objects.filter(saved_search=saved).count() == 1
    wait_for_state(str(run.job_id), JobState.SUCCESS)


def test_after_import_runs_are_queued_even_when_the_worker_queueing_them_is_killed(
    alice, bob, cebu_contracts, celery_worker_process
):
    searches = [
        services.saved_search_create(
            owner=owner, name="Cebu roads", kind="search", request=CEBU_ROADS, run_after_import=True
        )
        for owner in (alice, bob)
    ]

    with locked("saved_searches_savedsearch"):
        queue_after_import_task.delay()
        wait_for_blocked_worker()  # choosing the searches to run reads the table held
        kill_pool_processes(celery_worker_process)

    for saved in searches:
        run = wait_until(
            lambda saved=saved: SavedSearchRun.objects.filter(saved_search=saved).first(),
            timeout=30,
            what="the after-import run",
        )
        assert (run.trigger, run.matched_count) == (RunTrigger.IMPORT, 1)


def test_an_after_import_fan_out_goes_on_window_by_window_and_runs_each_search_once(
    alice, bob, cebu_contracts
):
    """The fan-out queues one window's runs, then itself for the rest (in the worker)."""
    searches = [
        services.saved_search_create(
            owner=owner, name=f"Cebu roads {i}", kind="search", request=CEBU_ROADS, run_after_import=True
        )
        for owner in (alice, bob)
        for i in range(3)
    ]

    # Two runs fit in a window of 0.5 s at the tests' spacing of 0.2 s.
    assert services.saved_searches_queue_after_import(window=0.5) == 2

    runs = wait_until(
        lambda: len(found := list(SavedSearchRun.objects.filter(trigger=RunTrigger.IMPORT))) == 6 and found,
        timeout=30,
        what="a run of every search",
    )
    assert sorted(run.saved_search_id for run in runs) == sorted(saved.id for saved in searches)
    time.sleep(1)  # nothing queued twice turns up late
    assert SavedSearchRun.objects.count() == 6


def test_a_firing_recorded_once_returns_its_run_when_it_comes_again(alice, cebu_contracts):
    """A broker may hand a message out twice; its id (the firing) then finds its run."""
    saved = services.saved_search_create(owner=alice, name="Cebu roads", kind="search", request=CEBU_ROADS)

    first = services.saved_search_run(saved_search_id=saved.id, trigger=RunTrigger.SCHEDULE, firing="f-1")
    again = services.saved_search_run(saved_search_id=saved.id, trigger=RunTrigger.SCHEDULE, firing="f-1")
    other = services.saved_search_run(saved_search_id=saved.id, trigger=RunTrigger.SCHEDULE, firing="f-2")
    # Runs started outside a worker name no firing, and each is a run of its own.
    manual = [
        services.saved_search_run(saved_search_id=saved.id, trigger=RunTrigger.MANUAL) for _ in range(2)
    ]

    assert again.id == first.id
    assert len({first.id, other.id, *(run.id for run in manual)}) == 4
    assert SavedSearchRun.objects.filter(saved_search=saved).count() == 4


def test_a_firing_delivered_twice_at_once_records_one_run(alice, cebu_contracts):
    """Both deliveries run in the worker at the same time; the second waits for the first's
    row lock, then finds its run."""
    saved = services.saved_search_create(owner=alice, name="Cebu roads", kind="search", request=CEBU_ROADS)

    with locked("contracts_contract"):
        for _ in range(2):
            run_saved_search_task.apply_async(
                args=[saved.id], kwargs={"trigger": RunTrigger.SCHEDULE}, task_id="firing-delivered-twice"
            )
        wait_for_blocked_worker()  # the first counts the matching contracts under the row lock

    run = wait_until(
        lambda: SavedSearchRun.objects.filter(saved_search=saved).first(), timeout=30, what="the run"
    )
    assert run.firing == "firing-delivered-twice"
    time.sleep(2)  # the second delivery, released by the first's commit, records nothing
    assert SavedSearchRun.objects.filter(saved_search=saved).count() == 1


def test_an_after_import_fan_out_queued_twice_runs_each_search_once_per_dataset_version(
    alice, bob, cebu_contracts
):
    searches = [
        services.saved_search_create(
            owner=owner, name="Cebu roads", kind="search", request=CEBU_ROADS, run_after_import=True
        )
        for owner in (alice, bob)
    ]

    def runs_once_each(count: int) -> list[SavedSearchRun]:
        runs = wait_until(
            lambda: len(found := list(SavedSearchRun.objects.all())) >= count and found,
            timeout=30,
            what=f"{count} runs",
        )
        time.sleep(1)  # a run queued twice would turn up by now
        assert SavedSearchRun.objects.count() == count
        return runs

    # As a fan-out killed after queueing its runs does when it runs again.
    for _ in range(2):
        services.saved_searches_queue_after_import(version=7)
    runs = runs_once_each(2)
    assert sorted(run.saved_search_id for run in runs) == sorted(saved.id for saved in searches)
    assert {run.firing for run in runs} == {services.after_import_firing(saved.id, 7) for saved in searches}

    # The next import's version is a new firing for every search.
    services.saved_searches_queue_after_import(version=8)
    runs_once_each(4)
