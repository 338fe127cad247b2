"""The process's Redis client, on the Django cache's shared, bounded connection pool.

Results, the job-state mirror and the rate-limit counters all use it. Django's cache object
is per request under ASGI (a context-local), and a client built through it on every call
cost a tenth of a millisecond each time; the client is kept per cache location, so a test
that points the cache at another server gets a client for that one.
"""

from __future__ import annotations

from functools import lru_cache

import redis
from django.conf import settings
from django_redis import get_redis_connection


def redis_client() -> redis.Redis:
    return _client_for(settings.CACHES["default"]["LOCATION"])


@lru_cache(maxsize=8)
def _client_for(location: str) -> redis.Redis:
    del location  # the cache key: get_redis_connection reads the current settings
    return get_redis_connection("default")
