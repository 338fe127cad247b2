"""The rate-limit counter (config/throttling.py): its notation and its windows."""

from __future__ import annotations

import time

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import RequestFactory

from config import throttling
from config.shared_redis import redis_client


@pytest.mark.parametrize(
    ("rate", "parsed"),
    [
        ("120/min", (120, 60)),
        ("10/5m", (10, 300)),
        ("3/s", (3, 1)),
        ("100/hour", (100, 3600)),
        ("1/d", (1, 86400)),
    ],
)
def test_rates_read_as_drf_writes_them(rate, parsed):
    assert throttling.parse_rate(rate) == parsed


@pytest.mark.parametrize("rate", ["", "120", "x/min", "120/fortnight", "-1/min"])
def test_a_rate_that_means_nothing_is_a_configuration_error(rate):
    with pytest.raises(ImproperlyConfigured, match="requests/period"):
        throttling.parse_rate(rate)


def test_the_limit_passes_then_waits_for_its_oldest_request_to_leave_the_window():
    request = RequestFactory().get("/")
    allowed = [
        throttling.seconds_until_allowed(request, scope="t", ident="user:counter", rate="3/h")
        for _ in range(5)
    ]

    assert allowed[:3] == [None, None, None]
    # The first of the three was accepted a moment ago: it leaves the window in an hour.
    assert all(3590 <= wait <= 3600 for wait in allowed[3:]), allowed
    key = next(redis_client().scan_iter(f"{throttling.KEY_PREFIX}t/user:counter/*"))
    assert 0 < redis_client().ttl(key) <= 3600
    # Another client has a count of its own.
    assert throttling.seconds_until_allowed(request, scope="t", ident="user:other", rate="3/h") is None


def test_no_span_of_the_period_lets_more_than_the_limit_through():
    """A client knocking every few milliseconds gets its fourth request in no sooner than a
    period after its first. A fixed window would let it in at the window's end, wherever in
    the window the first fell: twice the limit in a moment, around the boundary."""
    request = RequestFactory().get("/")
    passed_at: list[tuple[float, float]] = []  # (sent, answered) of each accepted request
    deadline = time.monotonic() + 5
    while len(passed_at) < 4 and time.monotonic() < deadline:
        sent = time.time()
        wait = throttling.seconds_until_allowed(request, scope="t", ident="user:knocker", rate="3/s")
        if wait is None:
            passed_at.append((sent, time.time()))
        else:
            assert wait == 1  # the one second of this rate, never less
            time.sleep(0.005)

    assert len(passed_at) == 4
    first_sent, fourth_answered = passed_at[0][0], passed_at[3][1]
    assert fourth_answered - first_sent >= 1.0
    # Refused knocks are not counted: the fourth gets in once the first has left the window.
    assert passed_at[3][0] - passed_at[0][1] < 1.5


def test_the_count_survives_redis_forgetting_its_scripts():
    """A restarted Redis has no scripts loaded: the check loads its own again and goes on
    counting what the restart kept (here, all of it)."""
    request = RequestFactory().get("/")
    assert throttling.seconds_until_allowed(request, scope="t", ident="user:flushed", rate="2/h") is None
    redis_client().script_flush()

    allowed = [
        throttling.seconds_until_allowed(request, scope="t", ident="user:flushed", rate="2/h")
        for _ in range(2)
    ]

    assert allowed[0] is None
    assert allowed[1] is not None
