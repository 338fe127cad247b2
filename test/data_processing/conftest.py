"""Fixtures for job tests: a committed dataset, a way to hold a job mid-query, and waiting.

Faults are injected with real mechanisms, never mocks: an ACCESS EXCLUSIVE lock on the
contracts table holds a worker inside its query; pg_terminate_backend drops its
connection; SIGKILL kills its process.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection

from contracts.models import Area, BusinessCategory, Contract, Contractor, Organization

MANY = 60_000
# Enough for an export to stay in PROGRESS for hundreds of ms on the fastest machine: 60,000
# rows were written there within about two progress intervals, so a poll could miss them all.
LOTS = 300_000


@pytest.fixture
def sample_contracts(live_db) -> list[Contract]:
    """240 committed contracts over 3 contractors, 2 areas, 2 categories and 2 years."""
    contractors = [
        Contractor.objects.create(name=n) for n in ("ACME BUILDERS", "BRIGHT SUPPLY", "CEBU TRADING")
    ]
    areas = [Area.objects.create(name=n) for n in ("Metro Manila", "Cebu")]
    categories = [
        BusinessCategory.objects.create(name=n) for n in ("Construction Projects", "Office Supplies")
    ]
    organization = Organization.objects.create(name="DEPARTMENT OF PUBLIC WORKS AND HIGHWAYS")
    rows = [
        Contract(
            reference_id=f"AW-{i:06d}",
            title=("Construction of farm-to-market road" if i % 3 == 0 else "Supply of office paper")
            + f" #{i}",
            contractor=contractors[i % 3],
            organization=organization,
            area=areas[i % 2],
            business_category=categories[(i // 2) % 2],
            amount=Decimal(1000 + i * 37),
            award_date=dt.date(2022 + i % 2, 1 + i % 12, 1 + i % 28),
        )
        for i in range(240)
    ]
    return Contract.objects.bulk_create(rows)


@pytest.fixture
def many_contracts(live_db) -> int:
    """60,000 committed contracts: enough for an export to report progress on any machine
    (a progress write waits ``JOB_PROGRESS_MIN_INTERVAL`` after the last; from the columnar
    snapshot a fast machine wrote 12,000 rows in about that long), which the websocket
    carries however short its PROGRESS lasts."""
    return bulk_contracts(MANY)


@pytest.fixture
def lots_of_contracts(live_db) -> int:
    """300,000 committed contracts: an export long enough in PROGRESS for a poll to see it."""
    return bulk_contracts(LOTS)


def bulk_contracts(count: int) -> int:
    """``count`` committed contracts of one contractor and organization."""
    contractor = Contractor.objects.create(name="ACME BUILDERS")
    organization = Organization.objects.create(name="CITY OF DIGOS")
    # Made by PostgreSQL in one statement: as 60,000 model instances they had cost a slow
    # machine's suite 5 s more each time.
    columns = {
        "reference_id": "'BULK-' || lpad(i::text, 7, '0')",
        "title": "'Supply and delivery of item ' || i",
        "contractor_id": "%(contractor)s",
        "organization_id": "%(organization)s",
        "amount": "5000 + i",
        "award_date": "date '2020-01-01' + i %% 1500",
        # Columns whose empty default is the model's, not the table's: an INSERT must name them.
        **{field.column: "''" for field in Contract._meta.concrete_fields if field.default == ""},
    }
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {Contract._meta.db_table} ({', '.join(columns)}) "
            f"SELECT {', '.join(columns.values())} FROM generate_series(0, %(last)s) AS i",
            {"contractor": contractor.pk, "organization": organization.pk, "last": count - 1},
        )
    return count
