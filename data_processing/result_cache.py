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
from .cache_keys import cache_key_pattern
from .registry import job_kinds


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


def results_forget_all(**kwargs: Any) -> int:
    """Delete every cached job answer; returns how many. A ``dataset_line_started``
    receiver: cache keys hold the version number, and a recreated database counts versions
    from the start again, so its requests would find the old database's answers (an export's
    pointing at a job that is not there) until they expired."""
    client = redis_client()
    forgotten = 0
    for prefix in sorted({spec.prefix for spec in job_kinds()}):
        batch = []
        for key in client.scan_iter(match=cache_key_pattern(prefix), count=1000):
            batch.append(key)
            if len(batch) == 1000:
                forgotten += client.delete(*batch)
                batch = []
        if batch:
            forgotten += client.delete(*batch)
    return forgotten


def result_exists(cache_key: str) -> bool:
    found = bool(redis_client().exists(cache_key))
    metrics.cache_lookup(hit=found)
    return found
