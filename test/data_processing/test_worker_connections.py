"""A worker process keeps its database connection from job to job (CELERY_DB_REUSE_MAX),
and replaces one that died in between at the job's first statement."""

from __future__ import annotations

import time

import pytest
from django.conf import settings
from django.db import DataError, connection
from django.test.utils import CaptureQueriesContext
from job_helpers import terminate_backends
from psycopg.pq import TransactionStatus

from config.celery_app import app
from data_processing.tasks import _hung_up, _limit_statements_to


def test_celery_reads_the_reuse_limit_that_its_django_fixup_applies():
    assert settings.CELERY_DB_REUSE_MAX > 0
    assert app.conf.get("CELERY_DB_REUSE_MAX") == settings.CELERY_DB_REUSE_MAX


@pytest.mark.django_db(transaction=True)
def test_a_connection_that_died_between_jobs_is_replaced_at_the_first_statement():
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (dead,) = cursor.fetchone()
    terminate_backends([dead])  # a database restart, as the next job finds it

    _limit_statements_to(12.5)

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid(), current_setting('statement_timeout')")
        pid, timeout = cursor.fetchone()
    assert pid != dead
    assert timeout == "12500ms"


@pytest.mark.django_db(transaction=True)
def test_a_connection_is_given_its_timeout_once_not_before_every_job():
    _limit_statements_to(12.5)

    with CaptureQueriesContext(connection) as again:
        _limit_statements_to(12.5)
    with CaptureQueriesContext(connection) as other:
        _limit_statements_to(20)

    assert len(again) == 0
    assert len(other) == 1
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('statement_timeout')")
        assert cursor.fetchone()[0] == "20s"


@pytest.mark.django_db(transaction=True)
def test_a_server_hang_up_is_seen_without_a_round_trip():
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    assert not _hung_up(connection.connection)

    terminate_backends([pid])

    deadline = time.monotonic() + 5
    while not _hung_up(connection.connection) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _hung_up(connection.connection)

    _limit_statements_to(12.5)  # replaces it before a statement fails on it

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        assert cursor.fetchone()[0] != pid


@pytest.mark.django_db(transaction=True)
def test_a_connection_a_cut_short_clean_up_left_aborted_is_replaced_before_the_next_job():
    """A time-limit signal that lands in the rollback after a failed statement leaves the
    transaction aborted and autocommit off: every later job of the process would fail on it."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (left,) = cursor.fetchone()
    connection.set_autocommit(False)
    with pytest.raises(DataError), connection.cursor() as cursor:
        cursor.execute("SELECT 1 / 0")
    assert connection.connection.info.transaction_status == TransactionStatus.INERROR

    _limit_statements_to(12.5)

    assert connection.get_autocommit()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid(), current_setting('statement_timeout')")
        pid, timeout = cursor.fetchone()
    assert pid != left
    assert timeout == "12500ms"
