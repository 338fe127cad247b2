"""A burst from one client never becomes a 5xx: pools are bounded and wait, they do not fail."""

from __future__ import annotations

import collections
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

pytestmark = [pytest.mark.integration]

BURST = 200


# The server pools its database connections as in production (a small pool: PostgreSQL's
# connection slots are shared with everything else on the machine).
POOLED = {"TEST_DATABASE_POOL": "1", "DATABASE_POOL_MAX_SIZE": "8"}


def test_200_concurrent_submits_by_one_user_give_no_server_error(asgi_server_factory, alice, live_db):
    asgi_server = asgi_server_factory("asgi-burst", extra_env=POOLED)
    headers = {"Authorization": f"Bearer {alice.auth_token.key}"}
    url = f"http://{asgi_server}/api/v1/data-processing/tasks/search/"

    def submit(i: int) -> int:
        # A connection per request, as 200 separate clients would: one httpx.Client shared by
        # many threads can hand a socket to one thread while another closes it.
        body = {"filters": {"keywords": [f"burst{i}"]}}
        return httpx.post(url, json=body, headers=headers, timeout=60).status_code

    with ThreadPoolExecutor(BURST) as pool:
        statuses = collections.Counter(pool.map(submit, range(BURST)))

    print(f"\n{BURST} concurrent submits by one user: {dict(statuses)}")
    assert not [status for status in statuses if status >= 500], statuses
    assert set(statuses) <= {202, 429}, statuses
