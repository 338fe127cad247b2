"""Prometheus metrics: what happens to jobs, the result cache, websockets and error answers,
declared once.

Events are counted where they happen, in whichever process that is: submits and cache
look-ups in the web processes, job outcomes in the prefork children of the workers. An
in-memory registry per process would show a scrape only the process that answered it, so
every process writes its samples with prometheus_client's multiprocess mode (one small
mmapped file per process under ``PROMETHEUS_MULTIPROC_DIR``) and ``/metrics`` merges the
files of every process that shares ``METRICS_DIRECTORY``: counters of a worker child that
exited keep counting. Values that are states rather than events (jobs waiting or running
now) are read from the Job table at scrape time, the one record every process shares.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.db.models import Count
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector

from .models import ACTIVE_STATES, Job, JobState

# Seconds: cached answers and chip-sized jobs, up to exports of millions of rows.
DURATION_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900)

JOBS_SUBMITTED = Counter(
    "philgeps_jobs_submitted", "Valid job submissions (queued, joined or answered from cache).", ["kind"]
)
JOBS_FINISHED = Counter("philgeps_jobs_finished", "Jobs that finished successfully.", ["kind"])
JOBS_FAILED = Counter("philgeps_jobs_failed", "Jobs that failed.", ["kind"])
JOB_DURATION = Histogram(
    "philgeps_job_duration_seconds",
    "Run time of finished jobs, start to end.",
    ["kind"],
    buckets=DURATION_BUCKETS,
)
JOB_QUEUE_WAIT = Histogram(
    "philgeps_job_queue_wait_seconds",
    "Time from submit to a worker starting the job.",
    ["kind"],
    buckets=DURATION_BUCKETS,
)
CACHE_REQUESTS = Counter(
    "philgeps_result_cache_requests", "Result-cache look-ups by outcome (hit or miss).", ["result"]
)
# livesum: the sum over live processes (a process that exits cleanly has closed its sockets).
WEBSOCKET_CONNECTIONS = Gauge(
    "philgeps_websocket_connections", "Open websocket connections.", multiprocess_mode="livesum"
)
SAVED_SEARCH_RUNS = Counter("philgeps_saved_search_runs", "Saved-search runs by trigger.", ["trigger"])
# By the error shape's stable code: the limits users reach (throttled, too_many_active_jobs,
# too_many_sockets…), the input they get wrong, and the faults (server_error,
# service_unavailable). The codes are a fixed set, so the labels stay few.
API_ERRORS = Counter("philgeps_api_errors", "Error answers (4xx and 5xx) by code.", ["code"])


def job_finished(job: Job) -> None:
    """Count a job that reached SUCCESS or FAILURE, with its run time when it started."""
    (JOBS_FINISHED if job.state == JobState.SUCCESS else JOBS_FAILED).labels(job.kind).inc()
    if job.started_at and job.completed_at:
        JOB_DURATION.labels(job.kind).observe((job.completed_at - job.started_at).total_seconds())


def job_started(job: Job) -> None:
    if job.started_at and job.attempts == 1:  # a retry or redelivery has waited already
        JOB_QUEUE_WAIT.labels(job.kind).observe((job.started_at - job.created_at).total_seconds())


def cache_lookup(*, hit: bool) -> None:
    CACHE_REQUESTS.labels("hit" if hit else "miss").inc()


def api_error(code: str) -> None:
    API_ERRORS.labels(code).inc()


class _JobStateCollector:
    """Jobs waiting and running now, counted in the database when Prometheus scrapes."""

    def collect(self) -> Iterator[Metric]:
        family = GaugeMetricFamily(
            "philgeps_jobs_active", "Jobs queued or running now.", labels=["kind", "state"]
        )
        rows = (
            Job.objects.filter(state__in=ACTIVE_STATES)
            .values("kind", "state")
            .annotate(n=Count("id"))
            .order_by()
        )
        for row in rows:
            family.add_metric([row["kind"], row["state"]], row["n"])
        yield family


class _DirectoryCollector:
    """The multiprocess files of every host (container) writing under METRICS_DIRECTORY.

    prometheus_client's own collector reads one directory; containers each write their own
    (their process ids overlap), so this merges the files of all of them in one pass.
    """

    def __init__(self, root: str) -> None:
        self.root = root

    def collect(self) -> Any:
        files = [path for path in glob.glob(os.path.join(self.root, "*", "*.db")) if _holds_samples(path)]
        return MultiProcessCollector.merge(files, accumulate=True)


def _holds_samples(path: str) -> bool:
    """False for an empty file. A process creates its file and sizes it a moment later, and
    prometheus_client fails the whole merge on an empty one (client_python issue 1199); a
    process killed in between (a worker child SIGKILLed) leaves it empty for good. An empty
    file has recorded nothing, so leaving it out loses no sample."""
    try:
        return os.path.getsize(path) > 0
    except FileNotFoundError:
        return False


def metrics_exposition() -> bytes:
    """The text every scrape returns: every process's events and the current job states."""
    if settings.METRICS_DIRECTORY:
        registry = CollectorRegistry()
        registry.register(_DirectoryCollector(settings.METRICS_DIRECTORY))
    else:
        # Single-process mode: right only when one process serves the web and runs jobs.
        registry = REGISTRY
    output = generate_latest(registry)
    states = CollectorRegistry()
    states.register(_JobStateCollector())
    return output + generate_latest(states)


class CountWebsockets:
    """ASGI middleware keeping WEBSOCKET_CONNECTIONS: up on accept, down when the socket ends."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "websocket":
            await self.app(scope, receive, send)
            return
        accepted = False

        async def counting_send(message: dict[str, Any]) -> None:
            nonlocal accepted
            if message["type"] == "websocket.accept" and not accepted:
                accepted = True
                WEBSOCKET_CONNECTIONS.inc()
            await send(message)

        try:
            await self.app(scope, receive, counting_send)
        finally:
            if accepted:
                WEBSOCKET_CONNECTIONS.dec()
