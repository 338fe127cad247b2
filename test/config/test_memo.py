"""``cached``: one look-up that answers as cachetools' ``get`` does."""

from __future__ import annotations

from cachetools import LRUCache, TTLCache

from config.memo import cached


def test_a_live_entry_is_returned_and_a_missing_or_expired_one_is_none():
    now = [0.0]
    cache: TTLCache[str, int] = TTLCache(maxsize=4, ttl=10, timer=lambda: now[0])
    cache["live"] = 1
    assert cached(cache, "live") == 1
    assert cached(cache, "missing") is None
    now[0] = 10.0  # the entry's time is up
    assert cached(cache, "live") is None
    assert cache.get("live") is None  # as cachetools' own get says


def test_a_look_up_keeps_an_entry_recently_used():
    cache: LRUCache[str, int] = LRUCache(maxsize=2)
    cache["a"], cache["b"] = 1, 2
    assert cached(cache, "a") == 1
    cache["c"] = 3  # evicts the least recently used: "b", not "a"
    assert cached(cache, "a") == 1 and cached(cache, "b") is None
