"""A worker process keeps its database connection from job to job (CELERY_DB_REUSE_MAX),
and replaces one that died in between at the job's first statement."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import connection
from job_helpers import terminate_backends

from config.celery_app import app
from data_processing.tasks import _limit_statements_to


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
