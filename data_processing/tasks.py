"""Celery tasks: one task runs a job of any kind (the job row names its kind), plus the
periodic maintenance; each is a thin wrapper over a service and owns the retry policy.

Retries (at most 2, with exponential backoff) are only for transient faults: a dropped
database or Redis connection. Bad input never reaches a worker (it is refused at submit),
and any other error fails the job at once with a message fit for the client.
"""

from __future__ import annotations

import dataclasses
import logging
import random
import select
import weakref
from typing import Any

import redis
from celery import Task, shared_task
from celery.exceptions import Reject, SoftTimeLimitExceeded
from django.conf import settings
from django.db import InterfaceError, OperationalError, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from psycopg.pq import TransactionStatus
from rest_framework.exceptions import ValidationError

from config.errors import flatten_errors, is_statement_timeout

from . import services
from .exceptions import JobCancelled, JobCannotFinish
from .selectors import job_revoked

logger = logging.getLogger(__name__)

TRANSIENT_ERRORS = (OperationalError, InterfaceError, redis.ConnectionError, redis.TimeoutError)


class JobTask(Task):
    max_retries = 2
    # A job whose worker dies mid-run goes back to the queue; the task claims its job with a
    # conditional update, so running one twice is harmless.
    acks_late = True
    reject_on_worker_lost = True
    # The Job row holds state, progress and errors, and the result lives under its cache key.
    # Celery's own result record would be a second, weaker copy, and with the Redis backend
    # every apply_async would also subscribe the web process to the task's result channel,
    # a subscription nobody ever consumes.
    ignore_result = True

    def run_job(self, job_id: str) -> None:
        redelivered = bool((self.request.delivery_info or {}).get("redelivered"))
        # This run's attempt once claimed: its failure or retry then applies only while no
        # newer attempt has taken the job (services.job_fail says when one does).
        attempt: int | None = None
        try:
            _limit_statements_to(self.soft_time_limit_seconds)
            job = services.job_claim(job_id, redelivered=redelivered)
            if job is None:
                return
            attempt = job.attempts
            services.job_execute(job)
        except JobCancelled:
            logger.info("Job %s was cancelled while running", job_id)
        except JobCannotFinish as exc:
            logger.error("Job %s cannot finish: %s (%s)", job_id, exc, exc.__cause__ or "no cause")
            services.job_fail(job_id, str(exc), attempt=attempt)
        except ValidationError as exc:
            # A stored request that no longer validates (written by an older release, say):
            # retrying cannot help.
            problems = "; ".join(
                f"{field}: {' '.join(msgs)}" for field, msgs in flatten_errors(exc.detail).items()
            )
            services.job_fail(job_id, f"The job's parameters are invalid: {problems}", attempt=attempt)
        except SoftTimeLimitExceeded:
            self._fail_over_time(job_id, attempt)
            raise
        except TRANSIENT_ERRORS as exc:
            if is_statement_timeout(exc):
                # The job's statements may run as long as the job (its soft time limit): one
                # that ran that long is the job over its limit, not a connection lost.
                self._fail_over_time(job_id, attempt)
                raise
            reason = (
                "database connection lost"
                if isinstance(exc, (OperationalError, InterfaceError))
                else ("cache connection lost")
            )
            if self.request.retries < self.max_retries:
                logger.warning("Job %s: %s; retrying", job_id, reason)
                _reset_db_connections()
                services.job_mark_retry(job_id, reason, attempt=attempt)
                self._retry(job_id, exc, attempt)
                return
            _recover_db_connections()
            services.job_fail(
                job_id, f"The job failed after {self.max_retries} retries: {reason}.", attempt=attempt
            )
            raise
        except Exception as exc:
            _recover_db_connections()
            if _raised_during(exc, SoftTimeLimitExceeded):
                # The signal landed in a clean-up (a rollback, say), which then failed in turn.
                self._fail_over_time(job_id, attempt)
                raise
            if job_revoked(job_id):
                # A cancel stops a running query by signal (DuckDB then raises "Query
                # interrupted"): the job ended as its owner asked, not by a fault.
                logger.info("Job %s was cancelled while running (%s)", job_id, type(exc).__name__)
                return
            logger.exception("Job %s failed", job_id)
            services.job_fail(job_id, "The job failed because of an internal error.", attempt=attempt)
            raise

    def _retry(self, job_id: str, exc: Exception, attempt: int | None) -> None:
        """Queue the job's next attempt, or leave it to the sweeper when the broker refuses.

        Celery answers a retry it cannot publish by rejecting the message and logging the
        whole chain of errors; the job would then wait for a sweep that noticed the broker's
        restart. Said on the job instead, the sweep a worker asks for on reconnecting runs it.
        """
        try:
            retry = self.retry(exc=exc, countdown=self.backoff_seconds(), throw=False)
        except Reject as refused:
            logger.warning(
                "Job %s: its retry could not be queued (%s); it waits for the broker",
                job_id,
                type(refused.reason).__name__,
            )
            services.job_wait_for_broker(job_id, attempt=attempt)
            return
        raise retry from exc

    def _fail_over_time(self, job_id: str, attempt: int | None) -> None:
        message = (
            f"The job ran longer than its time limit of {self.soft_time_limit_seconds} s and was stopped."
        )
        for attempt in (1, 2):
            # The signal lands mid-query: that connection is still busy, so start afresh.
            _reset_db_connections()
            try:
                services.job_fail(job_id, message, attempt=attempt)
                return
            except SoftTimeLimitExceeded:
                # After a statement timeout (the same limit) the soft limit's signal can still
                # be on its way and land here; it comes once, so the second write stands.
                if attempt == 2:
                    raise

    @property
    def soft_time_limit_seconds(self) -> float:
        _hard, soft = self.request.timelimit or (None, None)
        return soft or self.soft_time_limit or settings.CELERY_TASK_SOFT_TIME_LIMIT

    def backoff_seconds(self) -> float:
        base = settings.JOB_RETRY_BACKOFF_SECONDS * 2**self.request.retries
        return base + random.uniform(0, base / 2)


# The statement timeout each open connection was given, so that it is set once per
# connection rather than once per job (a round trip each). Weak: a dropped connection leaves.
_timeouts_given: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()


def _limit_statements_to(seconds: float) -> None:
    """A job's queries may run as long as the job may (its soft time limit), not the shorter
    limit of request-time queries that the connection starts with.

    This comes before a task's first statement. Its connection may have served earlier tasks
    (``CELERY_DB_REUSE_MAX``) and died since, in a database restart say: then it is replaced
    here, rather than failing the job's first attempt."""
    connection = connections["default"]
    if connection.vendor != "postgresql":
        return
    timeout = f"{int(seconds * 1000)}ms"
    _recover_db_connections()
    if connection.connection is not None and _timeouts_given.get(connection.connection) == timeout:
        return
    for attempt in (1, 2):
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config('statement_timeout', %s, false)", [timeout])
            _timeouts_given[connection.connection] = timeout
            return
        except (OperationalError, InterfaceError):
            if attempt == 2:
                raise
            _reset_db_connections()


def _hung_up(raw_connection: Any) -> bool:
    """Whether the server spoke on an idle connection, asked without a round trip: a server
    that restarts or ends a backend sends its goodbye and closes the socket, which leaves it
    readable. Nothing else arrives unasked on a connection that does not LISTEN."""
    try:
        socket = raw_connection.pgconn.socket
    except Exception:  # psycopg raises on a connection it knows is closed
        return True
    readable, _, _ = select.select([socket], [], [], 0)
    return bool(readable)


def _unusable(connection: BaseDatabaseWrapper) -> bool:
    """Whether an open connection cannot serve the next statement, read without a round
    trip: the server hung up, or an earlier job's clean-up was cut short. A time-limit signal
    that lands in the rollback after a failed statement leaves the transaction aborted and
    autocommit off, and every later job of the process would then fail on it. Inside an
    atomic block (a test running a task in-process) the block owns the transaction."""
    raw = connection.connection
    if raw is None or connection.vendor != "postgresql":
        return False
    if _hung_up(raw):
        return True
    if connection.in_atomic_block:
        return False
    return not connection.get_autocommit() or raw.info.transaction_status != TransactionStatus.IDLE


def _recover_db_connections() -> None:
    """Close this process's connections that cannot serve the next statement (`_unusable`)."""
    for connection in connections.all(initialized_only=True):
        if _unusable(connection):
            connection.close()


def _raised_during(exc: BaseException, kind: type[BaseException]) -> bool:
    """Whether `exc` was raised while handling a `kind`, or was caused by one."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [exc]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        if isinstance(current, kind):
            return True
        seen.add(id(current))
        pending += [current.__cause__, current.__context__]
    return False


def _reset_db_connections() -> None:
    """Close this process's database connections; the next query opens a fresh one."""
    for connection in connections.all():
        connection.close()


@shared_task(bind=True, base=JobTask, name=services.RUN_JOB_TASK)
def run_job_task(self: JobTask, job_id: str) -> None:
    """Run the job ``job_id``, whatever its kind: the job row says what to run."""
    self.run_job(job_id)


@shared_task(name="data_processing.recover_jobs")
def recover_jobs_task() -> int:
    return services.jobs_recover()


@shared_task(name="data_processing.warm_default_results")
def warm_default_results_task() -> list[str]:
    return services.results_warm_defaults()


@shared_task(name="data_processing.cleanup_jobs")
def cleanup_jobs_task() -> dict[str, int]:
    return dataclasses.asdict(services.jobs_cleanup())
