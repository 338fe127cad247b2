"""A kind's typical run time (the ETA's basis) is computed once a minute per process."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.utils import timezone

from data_processing import selectors
from data_processing.models import Job, JobState


@pytest.mark.django_db
def test_the_typical_duration_is_queried_once_then_known_without_a_query(alice, django_assert_num_queries):
    memo = selectors.typical_duration_seconds
    with memo.cache_lock:
        memo.cache.clear()
    started = timezone.now() - dt.timedelta(minutes=5)
    for seconds in (2, 4):
        Job.objects.create(
            owner=alice,
            kind="search",
            params={},
            cache_key=f"search:{uuid.uuid4().hex}",
            state=JobState.SUCCESS,
            started_at=started,
            completed_at=started + dt.timedelta(seconds=seconds),
        )

    assert selectors.typical_duration_known("search") == (False, None)
    with django_assert_num_queries(1):
        assert selectors.typical_duration_seconds("search") == 3.0
    with django_assert_num_queries(0):
        assert selectors.typical_duration_known("search") == (True, 3.0)
        assert selectors.typical_duration_seconds("search") == 3.0
