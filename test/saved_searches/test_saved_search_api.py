"""The saved-search API: create, read, edit, delete, validation, and who may see what."""

from __future__ import annotations

import json

import pytest
from django_celery_beat.models import PeriodicTask

from saved_searches.models import SavedSearch

pytestmark = pytest.mark.django_db

URL = "/api/v1/saved-searches/"
ROADS = {"filters": {"keywords": ["road"], "areas": ["Cebu"]}}


def create(client, **overrides):
    body = {"name": "Cebu roads", "kind": "search", "request": ROADS, "every_seconds": 3600, **overrides}
    return client.post(URL, body, format="json")


def test_it_saves_a_request_with_an_interval_as_a_beat_entry(alice_client):
    response = create(alice_client)

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["name"] == "Cebu roads"
    assert body["request"] == ROADS
    assert body["last_run"] is None and body["latest_run"] is None
    assert body["next_scheduled_run"] is not None
    task = SavedSearch.objects.get(id=body["id"]).periodic_task
    assert task.task == "saved_searches.run"
    assert json.loads(task.args) == [body["id"]]
    assert task.interval.every == 3600 and task.crontab is None


def test_a_crontab_replaces_the_interval_and_no_schedule_removes_the_entry(alice_client):
    saved_id = create(alice_client).json()["id"]

    edited = alice_client.patch(f"{URL}{saved_id}/", {"crontab": "30 7 * * 1-5"}, format="json")
    assert edited.status_code == 200, edited.json()
    assert edited.json()["every_seconds"] is None
    task = PeriodicTask.objects.get(saved_search__id=saved_id)
    assert (task.crontab.minute, task.crontab.hour, task.crontab.day_of_week) == ("30", "7", "1-5")
    assert task.interval is None

    cleared = alice_client.patch(
        f"{URL}{saved_id}/", {"crontab": "", "run_after_import": True}, format="json"
    )
    assert cleared.json()["next_scheduled_run"] is None
    assert cleared.json()["run_after_import"] is True
    assert not PeriodicTask.objects.filter(name=f"saved-search-{saved_id}").exists()


def test_it_lists_only_the_callers_searches(alice_client, bob_client):
    create(alice_client)
    create(alice_client, name="Everything", request={"filters": {}}, kind="analytics")
    create(bob_client, name="Bob's")

    listed = alice_client.get(URL).json()
    assert listed["count"] == 2
    assert sorted(s["name"] for s in listed["results"]) == ["Cebu roads", "Everything"]


def test_it_validates_ownership(alice_client, bob_client):
    saved_id = create(alice_client).json()["id"]
    unknown = 10**9

    for method, path in (
        ("get", f"{URL}{saved_id}/"),
        ("patch", f"{URL}{saved_id}/"),
        ("delete", f"{URL}{saved_id}/"),
        ("post", f"{URL}{saved_id}/run/"),
        ("get", f"{URL}{saved_id}/runs/"),
    ):
        theirs = getattr(bob_client, method)(path, {"name": "mine now"}, format="json")
        missing = getattr(bob_client, method)(path.replace(str(saved_id), str(unknown)), format="json")
        assert theirs.status_code == missing.status_code == 404, (method, path)
        assert theirs.json()["code"] == missing.json()["code"] == "saved_search_not_found"
    assert SavedSearch.objects.get(id=saved_id).name == "Cebu roads"


def test_delete_removes_the_search_and_its_beat_entry(alice_client):
    saved_id = create(alice_client).json()["id"]

    assert alice_client.delete(f"{URL}{saved_id}/").status_code == 204
    assert alice_client.get(f"{URL}{saved_id}/").status_code == 404
    assert not PeriodicTask.objects.filter(name=f"saved-search-{saved_id}").exists()


def test_the_request_is_validated_by_the_submit_serializer_of_its_kind(alice_client):
    response = create(alice_client, request={"filters": {"time_ranges": [{"start": "2024-13-01"}]}})

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_error" or body["status"] == "error"
    assert any(field.startswith("request.filters.time_ranges") for field in body["errors"]), body
    assert not SavedSearch.objects.exists()


def test_an_entity_table_needs_its_entity_type(alice_client):
    response = create(alice_client, kind="analytics_table", request={"filters": {}})

    assert response.status_code == 400
    assert "request.entity_type" in response.json()["errors"]


@pytest.mark.parametrize(
    ("schedule", "field"),
    [
        ({"every_seconds": 0}, "every_seconds"),
        ({"crontab": "61 * * * *"}, "crontab"),
        ({"crontab": "every day"}, "crontab"),
        ({"every_seconds": 600, "crontab": "0 7 * * *"}, "every_seconds"),
    ],
)
def test_a_bad_schedule_is_refused(alice_client, schedule, field):
    response = create(alice_client, **{"every_seconds": None, **schedule})

    assert response.status_code == 400, response.json()
    assert field in response.json()["errors"]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"run_after_import": 0}, "run_after_import"),
        ({"run_after_import": "yes"}, "run_after_import"),
        ({"name": 42}, "name"),
        ({"every_seconds": 3600.0}, "every_seconds"),
        ({"every_seconds": "3600.0"}, "every_seconds"),
        ({"schedule": "hourly"}, "schedule"),
    ],
)
def test_a_body_is_read_as_json_says_it_not_coerced(alice_client, overrides, field):
    """As a submit's body is: no number taken for a name or a boolean, no unknown field ignored."""
    response = create(alice_client, **overrides)

    assert response.status_code == 400, response.json()
    assert response.json()["code"] == "invalid_input"
    assert field in response.json()["errors"]
    assert not SavedSearch.objects.exists()


def test_an_edit_is_read_as_strictly_as_a_new_search(alice_client):
    url = f"{URL}{create(alice_client).json()['id']}/"

    refused = alice_client.patch(url, {"run_after_import": 1}, format="json")
    accepted = alice_client.patch(url, {"run_after_import": True}, format="json")

    assert refused.status_code == 400 and "run_after_import" in refused.json()["errors"]
    assert accepted.status_code == 200 and accepted.json()["run_after_import"] is True


@pytest.mark.parametrize(
    "params", [{"page_size": "abc"}, {"page_size": 101}, {"page": 0}, {"page_size": ""}, {"page": ""}]
)
def test_a_malformed_page_of_runs_is_a_400(alice_client, params):
    url = f"{URL}{create(alice_client).json()['id']}/runs/"

    response = alice_client.get(url, params)

    assert response.status_code == 400, response.json()
    assert set(response.json()["errors"]) == set(params)
    assert alice_client.get(url, {"page_size": 100}).status_code == 200


@pytest.mark.parametrize(
    "params", [{"page": ""}, {"page_size": ""}, {"ordering": ""}, {"ordering": "title"}, {"page": "x"}]
)
def test_a_malformed_query_for_a_runs_new_contracts_is_a_400(alice_client, params):
    url = f"{URL}{create(alice_client).json()['id']}/runs/1/new-contracts/"

    response = alice_client.get(url, params)

    assert response.status_code == 400, response.json()
    assert set(response.json()["errors"]) == set(params)


def test_a_schedule_more_frequent_than_the_minimum_is_refused(alice_client, settings):
    settings.SAVED_SEARCH_MIN_INTERVAL_SECONDS = 300

    assert create(alice_client, every_seconds=60).status_code == 400
    assert create(alice_client, every_seconds=None, crontab="*/2 * * * *").status_code == 400
    assert create(alice_client, every_seconds=None, crontab="*/5 * * * *").status_code == 201


def test_names_are_unique_per_user_and_searches_are_bounded(alice_client, bob_client, settings):
    settings.SAVED_SEARCH_MAX_PER_USER = 2
    assert create(alice_client).status_code == 201
    taken = create(alice_client)
    assert taken.status_code == 409 and taken.json()["code"] == "saved_search_name_taken"
    assert create(bob_client).status_code == 201  # another user's names are no concern

    assert create(alice_client, name="Second").status_code == 201
    over = create(alice_client, name="Third")
    assert over.status_code == 409 and over.json()["code"] == "saved_search_limit"


def test_anonymous_callers_are_refused(anon_client):
    assert anon_client.get(URL).status_code in (401, 403)


def test_the_admin_shows_beat_entries_and_saved_searches(client, django_user_model, alice_client):
    create(alice_client)
    admin = django_user_model.objects.create_superuser("root", "root@example.org", "root-password")
    client.force_login(admin)

    tasks = client.get("/admin/django_celery_beat/periodictask/")
    searches = client.get("/admin/saved_searches/savedsearch/")

    assert tasks.status_code == searches.status_code == 200
    assert "saved-search-" in tasks.content.decode()
    assert "Cebu roads" in searches.content.decode()


def test_a_kind_is_stored_under_its_registered_name_and_an_unknown_kind_is_refused(alice_client):
    older_name = create(
        alice_client, kind="analytics_table", request={"filters": {}, "entity_type": "area"}, name="Areas"
    )
    unknown = create(alice_client, kind="horoscope", name="Stars")

    assert older_name.status_code == 201, older_name.json()
    assert older_name.json()["kind"] == "entity_table"
    assert unknown.status_code == 400
    assert "kind" in unknown.json()["errors"]


def test_deleting_the_owner_deletes_the_beat_entries_of_their_searches(alice, alice_client):
    saved_id = create(alice_client).json()["id"]
    assert PeriodicTask.objects.filter(name=f"saved-search-{saved_id}").exists()

    alice.delete()

    assert not PeriodicTask.objects.filter(name=f"saved-search-{saved_id}").exists()
