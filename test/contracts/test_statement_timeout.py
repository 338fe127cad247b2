"""Imports and generates are not bound by the request-time statement timeout: their single
COPY of millions of rows outlasts it (5.5M generated rows were cut off after 30 s)."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import OperationalError, connection, transaction

from contracts.models import Contract
from contracts.services import lift_statement_timeout


def _sleep(seconds: float) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_sleep(%s)", [seconds])


def test_lifted_timeout_lets_a_long_statement_finish(db):
    with connection.cursor() as cursor:
        cursor.execute("SET statement_timeout = '50ms'")
    with pytest.raises(OperationalError):
        _sleep(0.2)
    lift_statement_timeout()
    _sleep(0.2)  # would be cancelled at 50 ms


def test_generate_runs_without_the_request_limit(db):
    with connection.cursor() as cursor:
        cursor.execute("SET statement_timeout = '1ms'")
    call_command("generate_contracts", "--count", "200", "--seed", "3", "--replace", "--no-progress")
    assert Contract.objects.count() == 200
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone()[0] == "0"
