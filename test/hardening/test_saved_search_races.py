"""One saved search edited, run and deleted by several requests at once, across two web
processes (as make run and compose serve): each request sees what the one before left, and
none answers 500."""

from __future__ import annotations

import collections
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from django_celery_beat.models import PeriodicTask

from saved_searches.models import SavedSearch, SavedSearchRun

pytestmark = pytest.mark.integration

ROADS = {"filters": {"keywords": ["road"]}}


@pytest.fixture
def servers(asgi_server_factory) -> list[str]:
    return [asgi_server_factory(f"asgi-saved-races-{n}") for n in range(2)]


@pytest.fixture
def call(servers, alice) -> Callable[..., tuple[int, str]]:
    """``call(n, method, path, json=...)``: the n-th request goes to server n % 2."""
    headers = {"Authorization": f"Bearer {alice.auth_token.key}"}

    def send(n: int, method: str, path: str, **kwargs) -> tuple[int, str]:
        url = f"http://{servers[n % 2]}/api/v1/saved-searches/{path}"
        response = httpx.request(method, url, headers=headers, timeout=60, **kwargs)
        code = response.json().get("code", "") if response.status_code >= 400 else ""
        return response.status_code, code

    return send


def at_once(requests: list[Callable[[], tuple[int, str]]]) -> collections.Counter:
    with ThreadPoolExecutor(len(requests)) as pool:
        return collections.Counter(pool.map(lambda request: request(), requests))


def save(call, name: str, **fields) -> int:
    status, _ = call(0, "POST", "", json={"name": name, "kind": "search", "request": ROADS, **fields})
    assert status == 201
    return SavedSearch.objects.get(name=name).id


def test_a_delete_during_runs_waits_for_them_and_leaves_nothing_behind(call, alice, live_db):
    saved_id = save(call, "Roads")
    requests = [
        (lambda n=n: call(n, "DELETE", f"{saved_id}/"))
        if n % 4 == 3
        else (lambda n=n: call(n, "POST", f"{saved_id}/run/"))
        for n in range(24)
    ]
    statuses = at_once(requests)

    print(f"\n18 runs and 6 deletes of one saved search at once: {dict(statuses)}")
    assert set(statuses) <= {(202, ""), (204, ""), (404, "saved_search_not_found")}
    assert statuses[(204, "")] == 1
    assert not SavedSearch.objects.filter(id=saved_id).exists()
    assert not SavedSearchRun.objects.filter(saved_search_id=saved_id).exists()


def test_concurrent_schedule_edits_leave_one_beat_entry_that_matches_the_last(call, alice, live_db):
    saved_id = save(call, "Roads")
    bodies = [{"every_seconds": 3600}, {"crontab": "0 * * * *"}, {"every_seconds": None, "crontab": ""}]
    statuses = at_once([lambda n=n: call(n, "PATCH", f"{saved_id}/", json=bodies[n % 3]) for n in range(24)])

    assert statuses == {(200, ""): 24}
    saved = SavedSearch.objects.get(id=saved_id)
    entries = PeriodicTask.objects.filter(name=f"saved-search-{saved_id}")
    if saved.every_seconds or saved.crontab:
        assert [entry.id for entry in entries] == [saved.periodic_task_id]
        assert (entries[0].interval is not None) == bool(saved.every_seconds)
    else:
        assert not entries.exists() and saved.periodic_task_id is None


def test_concurrent_renames_to_one_name_give_it_to_one_search(call, alice, live_db):
    first, second = save(call, "First"), save(call, "Second")
    statuses = at_once(
        [lambda n=n: call(n, "PATCH", f"{(first, second)[n % 2]}/", json={"name": "Same"}) for n in range(20)]
    )

    assert set(statuses) <= {(200, ""), (409, "saved_search_name_taken")}
    assert SavedSearch.objects.filter(owner=alice, name="Same").count() == 1
    winner = SavedSearch.objects.get(owner=alice, name="Same").id
    # The winner's own later renames to the name it has are no change, not a conflict.
    assert statuses[(200, "")] == 10 and winner in (first, second)
