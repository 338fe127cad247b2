"""Health of what a job needs to run: the database, Redis, the broker and live workers.

The health endpoint is public and polled by load balancers and `docker compose`, so every
check is bounded in time (all four run in parallel and the report is ready within
``HEALTH_DEADLINE_SECONDS`` even when a host black-holes packets), and a failed check says
only "unavailable", "timeout" or "no workers": hostnames, URLs and exception texts go to the
server log.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Any

import redis
from django.conf import settings
from django.db import connections
from redis.backoff import NoBackoff
from redis.retry import Retry

from config.celery_app import app as celery_app

logger = logging.getLogger(__name__)

# Each check gives up after about a second; the report never waits longer than the deadline.
CHECK_TIMEOUT_SECONDS = 1.0
HEALTH_DEADLINE_SECONDS = 2.0
# A worker ping is a broadcast that waits its whole timeout for replies; caching the count
# keeps a load balancer polling every second from turning into one broadcast per poll.
# "No workers" is remembered only briefly, so a worker that just started shows up quickly.
WORKER_COUNT_CACHE_SECONDS = 5.0
NO_WORKERS_CACHE_SECONDS = 1.0


@dataclass(frozen=True)
class CheckResult:
    """One check's outcome; ``error`` is a generic word, never an exception's text."""

    ok: bool
    latency_ms: float | None = None
    count: int | None = None
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {key: value for key, value in asdict(self).items() if value is not None}


@dataclass(frozen=True)
class HealthReport:
    """Every check by name; healthy only when all of them are (zero workers included)."""

    checks: dict[str, CheckResult]

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks.values())

    def as_dict(self, *, detailed: bool = True) -> dict[str, Any]:
        """Everything for staff; for anyone else only whether each check passed (and the
        generic word when not): latencies and worker counts are an operator's business."""
        checks = {name: check.as_dict() for name, check in self.checks.items()}
        if not detailed:
            checks = {
                name: {key: value for key, value in check.items() if key in ("ok", "error")}
                for name, check in checks.items()
            }
        return {"status": "ok" if self.ok else "degraded", "checks": checks}


def _timed(name: str, probe: Callable[[], None]) -> CheckResult:
    """Run a probe that raises on failure; log why it failed, report only that it did."""
    started = time.perf_counter()
    try:
        probe()
    except Exception as exc:
        logger.warning("Health check %s failed: %s: %s", name, type(exc).__name__, exc)
        return CheckResult(ok=False, error="unavailable")
    return CheckResult(ok=True, latency_ms=round((time.perf_counter() - started) * 1000, 2))


def check_database() -> CheckResult:
    """SELECT 1 on the default database, on this thread's own connection (closed after)."""

    def probe() -> None:
        connection = connections["default"]
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
                cursor.fetchone()
        finally:
            # Health checks run on short-lived threads that Django's request cycle never
            # cleans up: hand the connection back (to the pool, when there is one) now.
            connection.close()

    return _timed("database", probe)


@lru_cache(maxsize=4)
def _redis_client(url: str) -> redis.Redis:
    # One client (and connection pool) per URL, so polls reuse a connection. A connection
    # left stale by a Redis restart fails once and is replaced at once (one retry on a
    # fresh connection), instead of reporting Redis down on the first poll after it is back.
    return redis.Redis.from_url(
        url,
        socket_connect_timeout=CHECK_TIMEOUT_SECONDS,
        socket_timeout=CHECK_TIMEOUT_SECONDS,
        retry=Retry(NoBackoff(), 1),
        retry_on_error=[redis.ConnectionError, redis.TimeoutError],
    )


def check_redis() -> CheckResult:
    """PING the Redis that holds the result cache, the channel layer and job progress."""
    return _timed("redis", lambda: _redis_client(settings.REDIS_URL).ping())


def check_broker() -> CheckResult:
    """Open (and close) a connection to the broker, Redis or AMQP, without kombu's retries."""

    def probe() -> None:
        with celery_app.connection_for_write(connect_timeout=CHECK_TIMEOUT_SECONDS) as connection:
            connection.ensure_connection(
                max_retries=1, interval_start=0, interval_step=0, timeout=CHECK_TIMEOUT_SECONDS
            )

    return _timed("broker", probe)


class _WorkerCount:
    """The number of workers that answered a ping, remembered for a few seconds per process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._result: CheckResult | None = None
        self._measured_at = 0.0

    def get(self) -> CheckResult:
        # One thread pings while the others wait for its answer instead of pinging too.
        if not self._lock.acquire(timeout=HEALTH_DEADLINE_SECONDS):
            return CheckResult(ok=False, error="timeout")
        try:
            if self._result is None or self._expired(self._result):
                self._result = self._ping()
                self._measured_at = time.monotonic()
            return self._result
        finally:
            self._lock.release()

    def _expired(self, result: CheckResult) -> bool:
        lifetime = WORKER_COUNT_CACHE_SECONDS if result.ok else NO_WORKERS_CACHE_SECONDS
        return time.monotonic() - self._measured_at >= lifetime

    def clear(self) -> None:
        with self._lock:
            self._result = None

    @staticmethod
    def _ping() -> CheckResult:
        started = time.perf_counter()
        try:
            # On a connection of its own, as the broker check does: a pooled one that a
            # broker restart left stale would report the workers gone on the first ping after
            # it, and a ping is rare (its count is cached), so a new connection costs nothing.
            with celery_app.connection_for_write(connect_timeout=CHECK_TIMEOUT_SECONDS) as connection:
                replies = celery_app.control.ping(timeout=CHECK_TIMEOUT_SECONDS, connection=connection) or []
        except Exception as exc:
            logger.warning("Health check workers failed: %s: %s", type(exc).__name__, exc)
            return CheckResult(ok=False, count=0, error="unavailable")
        latency_ms = round((time.perf_counter() - started) * 1000, 2)
        count = len(replies)
        return CheckResult(
            ok=count > 0, latency_ms=latency_ms, count=count, error=None if count else "no workers"
        )


_worker_count = _WorkerCount()


def check_workers() -> CheckResult:
    """How many Celery workers answer a ping; zero means queued jobs would wait forever."""
    return _worker_count.get()


CHECKS: dict[str, Callable[[], CheckResult]] = {
    "database": check_database,
    "redis": check_redis,
    "broker": check_broker,
    "workers": check_workers,
}


# One pool for every report: at most one report is computed at a time (below), so at most
# four threads, however many callers.
_executor = ThreadPoolExecutor(max_workers=len(CHECKS), thread_name_prefix="health")


def _measure() -> HealthReport:
    """Run every check in parallel; one still running at the deadline counts as timed out."""
    futures = {name: _executor.submit(check) for name, check in CHECKS.items()}
    deadline = time.monotonic() + HEALTH_DEADLINE_SECONDS
    checks: dict[str, CheckResult] = {}
    for name, future in futures.items():
        try:
            checks[name] = future.result(timeout=max(0.0, deadline - time.monotonic()))
        except FutureTimeout:
            logger.warning("Health check %s timed out after %s s", name, HEALTH_DEADLINE_SECONDS)
            checks[name] = CheckResult(ok=False, error="timeout")
    return HealthReport(checks=checks)


class _CachedReport:
    """The last report, reused for ``HEALTH_CACHE_SECONDS``: a load balancer polling every
    second, or a hundred anonymous callers at once, cause one measurement, not one each."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._report: HealthReport | None = None
        self._measured_at = 0.0

    def get(self) -> HealthReport:
        with self._lock:  # callers that arrive during a measurement wait for its answer
            if self._report is None or time.monotonic() - self._measured_at >= settings.HEALTH_CACHE_SECONDS:
                self._report = _measure()
                self._measured_at = time.monotonic()
            return self._report

    def clear(self) -> None:
        with self._lock:
            self._report = None


_cached_report = _CachedReport()


def health_report() -> HealthReport:
    return _cached_report.get()


def clear_health_cache() -> None:
    """Forget the remembered report and worker count (tests start and stop dependencies)."""
    _cached_report.clear()
    _worker_count.clear()
