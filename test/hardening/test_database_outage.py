"""PostgreSQL restarted or unreachable: the API says "try again" (503 in the one error shape),
and once the database is back the very next request works; no 500 on either side of it."""

from __future__ import annotations

import collections
from concurrent.futures import ThreadPoolExecutor

import httpx
import psycopg
import pytest
from job_helpers import dsn, terminate_backends, wait_until

pytestmark = [pytest.mark.integration]

# The server pools its connections as `make run` does; its sessions carry a name of their own.
APP_NAME = "asgi-outage"
POOLED = {"TEST_DATABASE_POOL": "1", "DATABASE_POOL_MAX_SIZE": "8", "PGAPPNAME": APP_NAME}


def server_backends() -> list[int]:
    with psycopg.connect(dsn(), autocommit=True) as conn:
        rows = conn.execute("SELECT pid FROM pg_stat_activity WHERE application_name = %s", [APP_NAME])
        return [pid for (pid,) in rows.fetchall()]


def test_after_a_database_restart_the_pool_lends_no_dead_connection(asgi_server_factory, alice, live_db):
    server = asgi_server_factory(APP_NAME, extra_env=POOLED)
    headers = {"Authorization": f"Bearer {alice.auth_token.key}"}
    url = f"http://{server}/api/v1/data-processing/tasks/"  # the job list: a query every time

    def list_jobs(_: int) -> int:
        return httpx.get(url, headers=headers, timeout=30).status_code

    with ThreadPoolExecutor(8) as pool:  # several requests at once: several pooled connections
        assert set(pool.map(list_jobs, range(32))) == {200}
    pids = server_backends()
    assert len(pids) >= 2
    terminate_backends(pids)  # what a restart does to each of them
    wait_until(lambda: not set(pids) & set(server_backends()), what="the server's sessions to end")

    with ThreadPoolExecutor(8) as pool:
        statuses = collections.Counter(pool.map(list_jobs, range(32)))

    assert statuses == {200: 32}


def test_with_the_database_unreachable_requests_get_a_503_to_retry(asgi_server_factory, alice, live_db):
    # Nothing listens on port 9 (discard): each connection attempt is refused at once.
    server = asgi_server_factory(
        "asgi-no-database", extra_env={"DATABASE_URL": "postgres://postgres@127.0.0.1:9/x"}
    )
    headers = {"Authorization": f"Bearer {alice.auth_token.key}"}
    api = f"http://{server}/api/v1"

    answers = [
        httpx.get(f"{api}/data-processing/tasks/", headers=headers, timeout=30),
        httpx.post(f"{api}/data-processing/tasks/search/", json={"filters": {}}, headers=headers, timeout=30),
        httpx.post(f"{api}/contracts/chip-search/", json={"filters": {}}, headers=headers, timeout=30),
    ]

    for answer in answers:
        assert answer.status_code == 503, answer.text
        assert answer.json()["code"] == "service_unavailable"
        assert int(answer.headers["Retry-After"]) > 0
    health = httpx.get(f"{api}/health/", timeout=30)
    assert health.status_code == 503
    assert health.json()["checks"]["database"]["ok"] is False
