"""Cached answers belong to one database's line of dataset versions.

Cache keys hold the version number, and a recreated or flushed database counts versions from
the start again: in a Redis that outlived the old database (`make clean` then `make run`
beside the same Redis), the new version 2 would find the old version 2's answers, an export's
pointing at a job that no longer exists. The version row's creation forgets them.
"""

from __future__ import annotations

import fnmatch

import pytest
from django.core.cache import cache

from config.shared_redis import redis_client
from contracts.models import DatasetVersion
from contracts.selectors.time_ranges import time_ranges_cache_key
from contracts.signals import dataset_line_started
from data_processing import result_cache
from data_processing.cache_keys import cache_key_for, cache_key_pattern
from data_processing.registry import job_kind

FINGERPRINT = "f" * 64


def another_databases_answers() -> list[str]:
    """Answers cached for versions 1-3 of each kind, as an earlier database left them."""
    keys = [
        cache_key_for(job_kind(kind).prefix, FINGERPRINT, version)
        for kind in ("search", "analytics", "export")
        for version in (1, 2, 3)
    ]
    for key in keys:
        result_cache.result_set(key, {"from": "another database"})
    cache.set(time_ranges_cache_key(2), {"dataset_version": 2, "years": [{"year": 1999}]})
    return keys


@pytest.mark.django_db(transaction=True)
def test_a_new_line_of_versions_forgets_every_cached_answer():
    keys = another_databases_answers()
    not_a_cache_key = f"{job_kind('search').prefix}:kept-by-someone-else"
    redis_client().set(not_a_cache_key, "1", ex=60)
    DatasetVersion.objects.all().delete()  # a flushed database

    assert DatasetVersion.bump() == 2  # its first version: the version row is created

    assert [result_cache.result_get(key) for key in keys] == [None] * len(keys)
    assert cache.get(time_ranges_cache_key(2)) is None
    assert redis_client().get(not_a_cache_key) == b"1"  # only keys of the cache-key shape go
    redis_client().delete(not_a_cache_key)


@pytest.mark.django_db(transaction=True)
def test_a_later_version_of_the_same_line_forgets_nothing():
    DatasetVersion.bump()
    keys = another_databases_answers()

    DatasetVersion.bump()

    assert all(result_cache.result_get(key) is not None for key in keys)
    assert cache.get(time_ranges_cache_key(2)) is not None


def test_the_cache_key_pattern_matches_the_keys_made_and_no_other():
    key = cache_key_for("search", FINGERPRINT, 7)
    pattern = cache_key_pattern("search")  # a Redis glob: fnmatch reads these ones alike

    assert fnmatch.fnmatchcase(key, pattern)
    assert not fnmatch.fnmatchcase(key + "0", pattern)
    assert not fnmatch.fnmatchcase(key.replace("search:", "searches:"), pattern)
    assert not fnmatch.fnmatchcase("search:kept-by-someone-else", pattern)


@pytest.mark.django_db(transaction=True)
def test_a_receiver_that_fails_does_not_fail_the_bump(caplog):
    def broken(**kwargs):
        raise ConnectionError("Redis is down")

    dataset_line_started.connect(broken, dispatch_uid="test.broken")
    try:
        DatasetVersion.objects.all().delete()
        assert DatasetVersion.bump() == 2
    finally:
        dataset_line_started.disconnect(dispatch_uid="test.broken")
    assert "broken failed (ConnectionError)" in caplog.text
