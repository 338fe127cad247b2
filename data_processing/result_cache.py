"""Job results in Redis, stored as JSON under the job's cache key with a lifetime.

One client per process (``config.shared_redis``) on the pool it shares with the Django
cache: under ASGI each request runs in a new thread, and a client per thread would mean a
connection per request.
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings

from config.shared_redis import redis_client

from . import metrics


def result_get(cache_key: str) -> Any | None:
    raw = redis_client().get(cache_key)
    metrics.cache_lookup(hit=raw is not None)
    return None if raw is None else json.loads(raw)


def result_set(cache_key: str, data: Any, *, timeout: int | None = None) -> str:
    """Cache ``data``; returns the JSON stored (ASCII: one byte a character), which a job's
    SUCCESS update can carry as it is."""
    ttl = settings.RESULT_CACHE_TIMEOUT if timeout is None else timeout
    encoded = json.dumps(data, separators=(",", ":"))
    redis_client().set(cache_key, encoded, ex=ttl)
    return encoded


def result_exists(cache_key: str) -> bool:
    found = bool(redis_client().exists(cache_key))
    metrics.cache_lookup(hit=found)
    return found
