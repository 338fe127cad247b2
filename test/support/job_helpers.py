"""Helpers for tests of jobs: waiting for states, finding and killing blocked backends."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import psycopg
from django.db import connection
from django.utils import timezone

from data_processing.models import Job, JobState


def stored_job(owner: Any, kind: str, params: dict[str, Any], **fields: Any) -> Job:
    """A job row as a submit stores it (a key and fingerprint of its own), for a test that
    hands it to the worker itself or needs it in a given state."""
    unique = uuid.uuid4().hex
    return Job.objects.create(
        owner=owner, kind=kind, params=params, cache_key=f"{kind}:{unique}", fingerprint=unique * 2, **fields
    )


def finished_job(owner: Any, kind: str, seconds: float) -> Job:
    """A job of ``kind`` that succeeded ten minutes ago after running ``seconds``: what a
    kind's typical run time (the ETA's basis) is taken from."""
    started = timezone.now() - timedelta(minutes=10)
    completed = started + timedelta(seconds=seconds)
    return stored_job(owner, kind, {}, state=JobState.SUCCESS, started_at=started, completed_at=completed)


def dsn() -> str:
    db = connection.settings_dict
    host, port, user = db["HOST"] or "127.0.0.1", db["PORT"] or 5432, db["USER"] or "postgres"
    return f"host={host} port={port} user={user} dbname={db['NAME']}"


def blocked_backend_pids() -> list[int]:
    """Backends (the worker's) waiting for the table lock."""
    with psycopg.connect(dsn(), autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
        ).fetchall()
    return [pid for (pid,) in rows]


def terminate_backends(pids: list[int]) -> None:
    with psycopg.connect(dsn(), autocommit=True) as conn:
        for pid in pids:
            conn.execute("SELECT pg_terminate_backend(%s)", [pid])


def wait_until(predicate: Callable[[], object], *, timeout: float = 30, what: str = "condition") -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"Timed out after {timeout} s waiting for {what}")


def wait_for_state(job_id: str, *states: str, timeout: float = 30) -> Job:
    def reached() -> Job | None:
        job = Job.objects.get(id=job_id)
        return job if job.state in states else None

    try:
        return wait_until(reached, timeout=timeout, what=f"job {job_id} to reach {states}")  # type: ignore[return-value]
    except AssertionError:
        job = Job.objects.get(id=job_id)
        raise AssertionError(
            f"job {job_id} is {job.state} ({job.message!r} {job.error!r}), not {states}"
        ) from None


def wait_for_blocked_worker(timeout: float = 30) -> list[int]:
    return wait_until(blocked_backend_pids, timeout=timeout, what="a worker to block on the lock")  # type: ignore[return-value]


def point_celery_at(broker_url: str) -> None:
    """Make this process's Celery app publish to another broker from now on."""
    from config.celery_app import app

    # kombu keeps one connection pool per URL; forgetting the app's reference is enough.
    app.conf.broker_url = broker_url
    app._pool = None
    app.amqp._producer_pool = None
