"""Every resource a user can consume is bounded: throttles that hold under concurrency,
active jobs, saved searches, stored export bytes, query time, and password strength."""

from __future__ import annotations

import collections
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import httpx
import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import override_settings
from django.utils import timezone
from job_helpers import finished_job, stored_job
from rest_framework.test import APIClient

from config.throttling import AtomicRateThrottle
from data_processing.exports import export_directory
from data_processing.models import ACTIVE_STATES, Job, JobState
from data_processing.tasks import _limit_statements_to
from saved_searches.models import SavedSearch

TASKS = "/api/v1/data-processing/tasks"
CHIP_SEARCH = "/api/v1/contracts/chip-search/"


@pytest.fixture
def rates(monkeypatch):
    """Set throttle rates for this test: rates(job_submit="2/min", ...)."""

    def set_rates(**scoped: str) -> None:
        monkeypatch.setattr(
            AtomicRateThrottle, "THROTTLE_RATES", {**AtomicRateThrottle.THROTTLE_RATES, **scoped}
        )

    return set_rates


@pytest.mark.integration
def test_the_submit_throttle_holds_under_concurrency(asgi_server_factory, alice, live_db):
    server = asgi_server_factory(
        "asgi-throttle",
        extra_env={
            "JOB_SUBMIT_THROTTLE_RATE": "10/hour",
            "TEST_DATABASE_POOL": "1",
            "DATABASE_POOL_MAX_SIZE": "8",
        },
    )
    headers = {"Authorization": f"Bearer {alice.auth_token.key}"}
    bad = {"filters": {"page_size": 0}}  # throttled before validation: no job, no worker needed
    url = f"http://{server}{TASKS}/search/"

    def submit(_: int) -> int:
        # A connection per request: one httpx.Client shared by 40 threads can hand a socket
        # to one thread while another closes it (EBADF), a client race, not the server's.
        return httpx.post(url, json=bad, headers=headers, timeout=60).status_code

    with ThreadPoolExecutor(40) as pool:
        statuses = collections.Counter(pool.map(submit, range(80)))
    # The window moves with the requests: the ten let through stay in it for an hour.
    print(f"\n80 submits at concurrency 40 against 10/hour: {dict(statuses)}")
    assert statuses == {400: 10, 429: 70}


@pytest.mark.integration
def test_the_active_job_limit_holds_under_concurrency(asgi_server_factory, alice, live_db, table_lock):
    """One user's concurrent submits are counted one after another (under their row lock):
    a burst of distinct searches queues exactly the limit's worth, never one more."""
    server = asgi_server_factory(
        "asgi-active-limit",
        extra_env={"JOB_MAX_ACTIVE_PER_USER": "5", "JOB_SUBMIT_THROTTLE_RATE": "1000/hour"},
    )
    headers = {"Authorization": f"Bearer {alice.auth_token.key}"}
    url = f"http://{server}{TASKS}/search/"

    def submit(n: int) -> int:
        body = {"filters": {"keywords": [f"burst-{n}"]}}
        return httpx.post(url, json=body, headers=headers, timeout=60).status_code

    # Held, the table keeps any job a worker takes from finishing, so none leaves the count.
    with table_lock(), ThreadPoolExecutor(30) as pool:
        statuses = collections.Counter(pool.map(submit, range(60)))
        active = Job.objects.filter(owner=alice, state__in=ACTIVE_STATES).count()
    print(f"\n60 distinct submits at concurrency 30 against 5 active jobs: {dict(statuses)}")
    assert statuses == {202: 5, 429: 55}
    assert active == 5


@pytest.mark.integration
def test_the_saved_search_limit_and_unique_names_hold_under_concurrency(asgi_server_factory, alice, live_db):
    """One user's concurrent saves are checked one after another (under their row lock): a
    burst keeps exactly the limit's worth, and a name taken meanwhile is a 409, never a 500."""
    # Two server processes, as make run and compose serve: one process runs a user's
    # synchronous views one after another on its one thread, two run them side by side.
    env = {"SAVED_SEARCH_MAX_PER_USER": "4"}
    servers = [asgi_server_factory(f"asgi-saved-limit-{n}", extra_env=env) for n in range(2)]
    headers = {"Authorization": f"Bearer {alice.auth_token.key}"}

    def save(numbered_name: tuple[int, str]) -> tuple[int, str]:
        n, name = numbered_name
        body = {"name": name, "kind": "search", "request": {"filters": {"keywords": ["road"]}}}
        url = f"http://{servers[n % 2]}/api/v1/saved-searches/"
        response = httpx.post(url, json=body, headers=headers, timeout=60)
        return response.status_code, response.json().get("code", "")

    with ThreadPoolExecutor(20) as pool:
        same_name = collections.Counter(pool.map(save, enumerate(["Roads"] * 20)))
        distinct = collections.Counter(pool.map(save, enumerate(f"Roads {n}" for n in range(30))))
    print(f"\n20 saves of one name: {dict(same_name)}; 30 distinct names against 4: {dict(distinct)}")
    assert same_name == {(201, ""): 1, (409, "saved_search_name_taken"): 19}
    assert distinct == {(201, ""): 3, (409, "saved_search_limit"): 27}
    assert SavedSearch.objects.filter(owner=alice).count() == 4


def test_the_synchronous_chip_endpoints_are_throttled_per_user(alice_client, bob_client, rates):
    rates(chip="3/hour")
    assert [alice_client.post(CHIP_SEARCH, {"filters": {}}, format="json").status_code for _ in range(3)] == [
        200
    ] * 3
    throttled = alice_client.post(CHIP_SEARCH, {"filters": {}}, format="json")
    assert throttled.status_code == 429
    assert throttled.json()["code"] == "throttled"
    assert int(throttled["Retry-After"]) > 0
    assert bob_client.post(CHIP_SEARCH, {"filters": {}}, format="json").status_code == 200
    # Sent as a job, the same endpoint counts against the submit limit instead.
    assert (
        alice_client.post(CHIP_SEARCH, {"filters": {}, "async_mode": True}, format="json").status_code == 202
    )


def test_token_logins_are_throttled_per_account_even_with_the_right_password(alice, rates):
    rates(login_user="5/hour")
    client = APIClient()
    wrong = [
        client.post(
            "/api/v1/auth/token/", {"username": "alice", "password": "nope"}, format="json"
        ).status_code
        for _ in range(5)
    ]
    right = client.post(
        "/api/v1/auth/token/", {"username": "alice", "password": "alice-password"}, format="json"
    )
    assert wrong == [400] * 5
    assert right.status_code == 429
    assert right.json()["code"] == "throttled"
    assert int(right["Retry-After"]) > 0


def test_token_logins_are_throttled_per_address_across_accounts(alice, rates):
    rates(login_ip="4/hour")
    client = APIClient()
    statuses = [
        client.post(
            "/api/v1/auth/token/", {"username": f"user{i}", "password": "x"}, format="json"
        ).status_code
        for i in range(5)
    ]
    assert statuses == [400] * 4 + [429]


@pytest.mark.parametrize("path", ["/accounts/login/", "/api-auth/login/", "/admin/login/"])
def test_every_login_form_is_throttled(alice, client, settings, path):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "login_user": "3/hour",
        },
    }
    wrong = [client.post(path, {"username": "alice", "password": "nope"}).status_code for _ in range(3)]
    right = client.post(path, {"username": "alice", "password": "alice-password"})
    assert wrong == [200] * 3  # the form again, with its error
    assert right.status_code == 429
    assert int(right["Retry-After"]) > 0


def test_weak_passwords_are_refused():
    for weak in ("1234", "password123", "12345678901"):
        with pytest.raises(ValidationError):
            validate_password(weak)
    validate_password("correct horse battery staple")


def submit(client, kind: str, body: dict):
    return client.post(f"{TASKS}/{kind}/", body, format="json")


@override_settings(JOB_MAX_ACTIVE_PER_USER=2)
def test_a_user_may_have_only_so_many_active_jobs(alice_client, bob_client):
    for year in (2021, 2022):
        assert submit(alice_client, "search", {"filters": {"time_ranges": [str(year)]}}).status_code == 202
    over = submit(alice_client, "search", {"filters": {"time_ranges": ["2023"]}})
    assert over.status_code == 429
    body = over.json()
    assert body["code"] == "too_many_active_jobs" and body["limit"] == "active_jobs" and body["max"] == 2
    assert "JOB_MAX_ACTIVE_PER_USER=2" in body["message"] and "finishes" in body["message"]
    assert over["Retry-After"]
    # Joining an identical job costs nothing; another user has their own allowance.
    assert submit(alice_client, "search", {"filters": {"time_ranges": ["2021"]}}).json()["deduplicated"]
    assert submit(bob_client, "search", {"filters": {"time_ranges": ["2023"]}}).status_code == 202


@override_settings(JOB_MAX_ACTIVE_PER_USER=2)
def test_the_active_job_limit_asks_to_wait_until_the_soonest_job_is_likely_done(alice, alice_client):
    for seconds in (40, 40, 40):
        finished_job(alice, "search", seconds)
    now = timezone.now()
    stored_job(alice, "search", {}, state=JobState.STARTED, started_at=now - timedelta(seconds=12))
    stored_job(alice, "search", {}, state=JobState.STARTED, started_at=now - timedelta(seconds=3))

    over = submit(alice_client, "search", {"filters": {"time_ranges": ["2023"]}})

    assert over.status_code == 429
    assert 27 <= int(over["Retry-After"]) <= 28  # 40 s typical, 12 s gone: the sooner of the two
    assert f"within {over['Retry-After']} s" in over.json()["message"]


@override_settings(JOB_MAX_ACTIVE_PER_USER=1)
def test_the_wait_is_at_least_a_second_at_most_a_minute_and_five_seconds_without_an_estimate(
    alice, alice_client, forget_typical_durations
):
    def wait_while_running(**fields) -> int:
        job = stored_job(alice, "analytics", {}, state=JobState.STARTED, **fields)
        over = submit(alice_client, "search", {"filters": {"keywords": ["wait"]}})
        job.delete()
        assert over.status_code == 429
        return int(over["Retry-After"])

    assert wait_while_running(started_at=timezone.now()) == 5  # no analytics job has finished yet
    finished_job(alice, "analytics", 3600)
    forget_typical_durations()
    assert wait_while_running(started_at=timezone.now()) == 60
    # Overdue: its estimate is spent, so ask again soon.
    assert wait_while_running(started_at=timezone.now() - timedelta(hours=2)) == 1


def test_the_limits_apply_to_a_browser_session_too(alice, client):
    client.force_login(alice)  # request.user is then a lazy object, not a User
    response = client.post(f"{TASKS}/search/", '{"filters": {}}', content_type="application/json")
    assert response.status_code == 202


@override_settings(JOB_MAX_ACTIVE_EXPORTS_PER_USER=1)
def test_a_user_may_run_only_so_many_exports_at_once(alice_client):
    assert submit(alice_client, "export", {"filters": {"keywords": ["road"]}}).status_code == 202
    over = submit(alice_client, "export", {"filters": {"keywords": ["paper"]}})
    assert over.status_code == 429
    assert over.json()["limit"] == "active_exports"


@override_settings(JOB_EXPORT_MAX_BYTES_PER_USER=1000, RESULT_CACHE_TIMEOUT=600)
def test_stored_export_bytes_are_capped_and_the_answer_says_when_space_frees_up(alice, alice_client):
    completed = timezone.now() - timedelta(seconds=100)
    job = stored_job(
        alice,
        "export",
        {"filters": {}},
        state=JobState.SUCCESS,
        completed_at=completed,
        result_file="limits-test.csv",
    )
    queued = submit(alice_client, "export", {"filters": {"keywords": ["bridge"]}})
    path = export_directory() / job.result_file
    path.write_bytes(b"x" * 1000)
    try:
        over = submit(alice_client, "export", {"filters": {"keywords": ["road"]}})
        again = submit(alice_client, "export", {"filters": {"keywords": ["bridge"]}})
    finally:
        path.unlink()
    # Joining the export already queued stores nothing more: the cap does not refuse it.
    assert queued.status_code == again.status_code == 202
    assert again.json()["deduplicated"] and again.json()["task_id"] == queued.json()["task_id"]
    assert over.status_code == 409
    body = over.json()
    assert body["code"] == "export_storage_full" and body["limit"] == "export_bytes"
    assert body["frees_at"] == (completed + timedelta(seconds=600)).isoformat()
    assert 490 <= int(over["Retry-After"]) <= 500
    assert submit(alice_client, "search", {"filters": {}}).status_code == 202  # other kinds unaffected


def test_request_time_queries_have_a_statement_timeout(db, settings):
    with connection.cursor() as cursor:
        cursor.execute("SELECT setting FROM pg_settings WHERE name = 'statement_timeout'")
        assert int(cursor.fetchone()[0]) == settings.DATABASE_STATEMENT_TIMEOUT * 1000


def test_a_query_over_the_statement_timeout_is_a_422_not_a_500(alice, db, table_lock):
    client = APIClient(raise_request_exception=False)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {alice.auth_token.key}")
    with connection.cursor() as cursor:
        cursor.execute("SET statement_timeout = 300")  # the test's own connection: quick to reach
    with table_lock():
        response = client.post(CHIP_SEARCH, {"filters": {}}, format="json")
    assert response.status_code == 422
    assert response.json()["code"] == "query_timeout"
    assert "async_mode" in response.json()["message"]


def test_a_job_gets_its_soft_time_limit_as_statement_timeout(db):
    _limit_statements_to(600)
    with connection.cursor() as cursor:
        cursor.execute("SELECT setting FROM pg_settings WHERE name = 'statement_timeout'")
        assert int(cursor.fetchone()[0]) == 600_000
