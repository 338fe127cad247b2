"""A kind's typical run time (the ETA's basis) is computed once a minute per process;
not knowing it yet, once every few seconds."""

from __future__ import annotations

import time

import pytest
from job_helpers import finished_job

from data_processing import selectors


@pytest.mark.django_db
def test_the_typical_duration_is_queried_once_then_known_without_a_query(alice, django_assert_num_queries):
    for seconds in (2, 4):
        finished_job(alice, "search", seconds)

    assert selectors.typical_duration_known("search") == (False, None)
    with django_assert_num_queries(1):
        assert selectors.typical_duration_seconds("search") == 3.0
    with django_assert_num_queries(0):
        assert selectors.typical_duration_known("search") == (True, 3.0)
        assert selectors.typical_duration_seconds("search") == 3.0


@pytest.mark.django_db
def test_no_estimate_is_remembered_only_briefly(alice, monkeypatch):
    """On a fresh stack the first jobs finish within seconds: a kind's "no estimate" must
    not hide their estimate for the minute a known one is kept."""
    monkeypatch.setattr(selectors, "TYPICAL_DURATION_UNKNOWN_CACHE_SECONDS", 0.2)
    assert selectors.typical_duration_seconds("search") is None
    finished_job(alice, "search", 7)
    assert selectors.typical_duration_known("search") == (True, None)  # remembered for now

    time.sleep(0.3)

    assert selectors.typical_duration_known("search") == (False, None)
    assert selectors.typical_duration_seconds("search") == 7.0
    time.sleep(0.3)
    assert selectors.typical_duration_known("search") == (True, 7.0)  # a known one stays
