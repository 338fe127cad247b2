"""What the job task makes of an exception its job raised: a fault, or the end of a cancel.

A cancel stops a running query by signal (revoke's SIGTERM), and the query then raises
whatever its engine raises for an interrupt (DuckDB: ``RuntimeError('Query interrupted')``).
These drive the task's own handler in-process: the task claims a queued job for real, and a
stand-in for the job's run (what comes after the claim) raises, which is the only way to
have an arbitrary exception arrive at a chosen moment; the cancel itself is tested end to
end in test_job_faults.py.
"""

from __future__ import annotations

import logging
import uuid

import psycopg
import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.db import OperationalError, ProgrammingError

from data_processing import services, tasks
from data_processing.models import Job, JobState
from data_processing.tasks import run_job_task


@pytest.fixture(autouse=True)
def _no_statement_timeout(monkeypatch):
    """The task sets its statement timeout on this test's connection and remembers it as
    given; the test's transaction then rolls the setting back, and a later test on the same
    connection would find the memo wrong. Not what these tests are about."""
    monkeypatch.setattr(tasks, "_limit_statements_to", lambda seconds: None)


def queued_job(owner) -> Job:
    return Job.objects.create(
        owner=owner,
        kind="search",
        params={"filters": {}},
        cache_key=f"search:{uuid.uuid4().hex}",
        state=JobState.PENDING,
    )


@pytest.mark.django_db
def test_a_query_interrupted_by_a_cancel_ends_the_task_quietly(alice, monkeypatch, caplog):
    job = queued_job(alice)

    def cancelled_mid_query(claimed: Job) -> None:
        Job.objects.filter(id=claimed.id).update(state=JobState.REVOKED, message="Cancelled.")
        raise RuntimeError("Query interrupted")

    monkeypatch.setattr(services, "job_execute", cancelled_mid_query)
    with caplog.at_level(logging.INFO, logger="data_processing.tasks"):
        run_job_task(str(job.id))

    job.refresh_from_db()
    assert (job.state, job.error) == (JobState.REVOKED, "")
    assert [record.levelno for record in caplog.records] == [logging.INFO]
    assert "cancelled while running (RuntimeError)" in caplog.text


@pytest.mark.django_db
def test_the_same_exception_without_a_cancel_fails_the_job(alice, monkeypatch, caplog):
    job = queued_job(alice)

    def broken(claimed: Job) -> None:
        raise RuntimeError("Query interrupted")

    monkeypatch.setattr(services, "job_execute", broken)
    with caplog.at_level(logging.INFO, logger="data_processing.tasks"), pytest.raises(RuntimeError):
        run_job_task(str(job.id))

    job.refresh_from_db()
    assert (job.state, job.error) == (JobState.FAILURE, "The job failed because of an internal error.")
    assert logging.ERROR in [record.levelno for record in caplog.records]


@pytest.mark.django_db(transaction=True)
def test_a_time_limit_that_lands_in_a_rollback_fails_the_job_for_its_time_limit(alice, monkeypatch):
    """After a statement timeout the soft limit's signal can land in the rollback, which then
    fails in turn: that error reaches the task, the signal only as its context."""
    job = queued_job(alice)

    def cut_short(claimed: Job) -> None:
        try:
            raise SoftTimeLimitExceeded()
        except SoftTimeLimitExceeded:
            # Raised while handling it, as the atomic block's exit does: the signal is its context.
            raise ProgrammingError("can't change autocommit now: transaction status INERROR")  # noqa: B904

    monkeypatch.setattr(services, "job_execute", cut_short)
    with pytest.raises(ProgrammingError):
        run_job_task(str(job.id))

    job.refresh_from_db()
    assert job.state == JobState.FAILURE
    assert "ran longer than its time limit" in job.error


@pytest.mark.django_db(transaction=True)
def test_a_statement_timeout_fails_the_job_for_its_time_limit_without_a_retry(alice, monkeypatch):
    """A job's statements may run as long as the job: one stopped by that timeout is the job
    over its limit, not a lost connection worth retrying."""
    job = queued_job(alice)

    def timed_out(claimed: Job) -> None:
        try:
            raise psycopg.errors.QueryCanceled("canceling statement due to statement timeout")
        except psycopg.errors.QueryCanceled as exc:
            raise OperationalError(str(exc)) from exc

    monkeypatch.setattr(services, "job_execute", timed_out)
    with pytest.raises(OperationalError):
        run_job_task(str(job.id))

    job.refresh_from_db()
    assert (job.state, job.attempts) == (JobState.FAILURE, 1)  # its one claim; failed, not RETRY
    assert "ran longer than its time limit" in job.error


@pytest.mark.django_db
def test_an_attempt_a_newer_one_replaced_does_not_fail_the_job_for_it(alice, monkeypatch):
    """A worker stalled mid-job is taken for lost and its job runs again elsewhere; let go
    on, the stalled attempt fails (its time limit ran out while it stood still). The job is
    the newer attempt's to finish."""
    job = queued_job(alice)

    def replaced_then_failing(claimed: Job) -> None:
        # The sweeper queues the job again, and another worker claims it: attempt 2.
        Job.objects.filter(id=claimed.id).update(state=JobState.RETRY)
        assert services.job_claim(str(claimed.id)).attempts == 2
        raise RuntimeError("the stalled attempt's own failure")

    monkeypatch.setattr(services, "job_execute", replaced_then_failing)
    with pytest.raises(RuntimeError):
        run_job_task(str(job.id))

    job.refresh_from_db()
    assert (job.state, job.attempts, job.error) == (JobState.STARTED, 2, "")


@pytest.mark.django_db
def test_a_transient_fault_of_a_replaced_attempt_does_not_mark_the_newer_one_retrying(alice, monkeypatch):
    job = queued_job(alice)

    def replaced_then_disconnected(claimed: Job) -> None:
        Job.objects.filter(id=claimed.id).update(state=JobState.RETRY)
        services.job_claim(str(claimed.id))
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(services, "job_execute", replaced_then_disconnected)
    monkeypatch.setattr(
        tasks, "_reset_db_connections", lambda: None
    )  # the test's transaction holds its connection
    with pytest.raises(OperationalError):  # called directly, Celery's retry raises the fault itself
        run_job_task(str(job.id))

    job.refresh_from_db()
    assert (job.state, job.attempts) == (JobState.STARTED, 2)
