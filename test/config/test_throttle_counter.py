"""The rate-limit counter (config/throttling.py): its notation and its windows."""

from __future__ import annotations

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


def test_the_limit_passes_then_waits_until_the_window_ends():
    request = RequestFactory().get("/")
    allowed = [
        throttling.seconds_until_allowed(request, scope="t", ident="user:counter", rate="3/h")
        for _ in range(5)
    ]

    assert allowed[:3] == [None, None, None]
    assert all(1 <= wait <= 3600 for wait in allowed[3:])
    key = next(redis_client().scan_iter(f"{throttling.KEY_PREFIX}t:user:counter:*"))
    assert 0 < redis_client().ttl(key) <= 3600
    # Another client has a count of its own.
    assert throttling.seconds_until_allowed(request, scope="t", ident="user:other", rate="3/h") is None
