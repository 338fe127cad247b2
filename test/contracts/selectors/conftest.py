"""A seeded random dataset, big enough that grouping bugs show, small enough to build fast."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import pytest

from contracts.models import Area, BusinessCategory, Contract, Contractor, Organization


@pytest.fixture
def random_contracts(db) -> list[Contract]:
    rng = random.Random(20240601)
    contractors = [Contractor.objects.create(name=f"Contractor {n:02d}") for n in range(15)]
    organizations = [Organization.objects.create(name=f"Office {n}") for n in range(6)]
    areas = [Area.objects.create(name=f"Region {n}") for n in range(5)]
    categories = [BusinessCategory.objects.create(name=f"Category {n}") for n in range(4)]
    start = dt.date(2019, 1, 1)
    rows = [
        Contract(
            reference_id=f"RND-{n:05d}",
            title=rng.choice(
                ["Road repair", "Supply of road signs", "Textbooks", "Hospital beds", "Bridge works"]
            ),
            # Skewed towards the first contractors, as real awards are.
            contractor=contractors[min(int(rng.paretovariate(1.2)) - 1, len(contractors) - 1)],
            organization=rng.choice(organizations),
            area=rng.choice([*areas, None]),
            business_category=rng.choice([*categories, None]),
            amount=Decimal(rng.randint(1_000_00, 50_000_000_00)) / 100,
            award_date=start + dt.timedelta(days=rng.randint(0, 6 * 365)),
        )
        for n in range(400)
    ]
    Contract.objects.bulk_create(rows)
    return list(Contract.objects.select_related("contractor", "organization", "area", "business_category"))


def _amount(rng: random.Random) -> Decimal:
    """Amounts as audits meet them: random, whole, round, just under a threshold, tiny."""
    kind = rng.random()
    if kind < 0.4:
        return Decimal(rng.randint(1_000, 5_000_000_000)) / 100
    if kind < 0.6:
        return Decimal(rng.randint(10, 50_000_000))
    if kind < 0.8:
        return Decimal(rng.choice([1_000, 10_000, 50_000, 100_000, 1_000_000, 5_000_000, 10_000_000]))
    if kind < 0.98:
        threshold = rng.choice([1_000_000, 5_000_000, 10_000_000])
        return Decimal(threshold) - Decimal(rng.randint(1, 300_000_00)) / 100
    return Decimal(rng.choice(["0.00", "5.50", "9.99", "10.00", "99.99"]))


def _create_amount_contracts() -> list[Contract]:
    rng = random.Random(20241203)
    contractors = [Contractor.objects.create(name=f"Builder {n:02d}") for n in range(12)]
    organizations = [Organization.objects.create(name=f"Agency {n}") for n in range(5)]
    areas = [Area.objects.create(name=f"Province {n}") for n in range(4)]
    categories = [BusinessCategory.objects.create(name=f"Kind {n}") for n in range(4)]
    start = dt.date(2021, 1, 1)
    rows = [
        Contract(
            reference_id=f"AMT-{n:05d}",
            title=rng.choice(["Road repair", "Supply of medicines", "School building", "Road signs"]),
            contractor=contractors[min(int(rng.paretovariate(1.1)) - 1, len(contractors) - 1)],
            organization=rng.choice(organizations),
            area=rng.choice([*areas, None]),
            business_category=rng.choice([*categories, None]),
            amount=_amount(rng),
            award_date=start + dt.timedelta(days=rng.randint(0, 3 * 365)),
        )
        for n in range(1500)
    ]
    rows.append(  # the very top of the range, alone in its bin
        Contract(
            reference_id="AMT-TOP",
            title="Expressway",
            contractor=contractors[0],
            organization=organizations[0],
            area=areas[0],
            business_category=categories[0],
            amount=Decimal("123456789012.34"),
            award_date=dt.date(2023, 12, 31),
        )
    )
    Contract.objects.bulk_create(rows)
    return list(Contract.objects.select_related("contractor", "organization", "area", "business_category"))


@pytest.fixture(scope="module")
def _committed_amount_contracts(django_db_setup, django_db_blocker):
    """Built once per module and committed (the tests only read it), removed afterwards."""
    with django_db_blocker.unblock():
        rows = _create_amount_contracts()
    yield rows
    with django_db_blocker.unblock():
        Contract.objects.all().delete()
        for model in (Contractor, Organization, Area, BusinessCategory):
            model.objects.all().delete()


@pytest.fixture
def amount_contracts(_committed_amount_contracts, db) -> list[Contract]:
    """1,500 contracts (enough for Benford's minimum) with amounts that exercise every
    red-flag analysis: round figures, amounts just under thresholds, centavos, tiny ones."""
    return _committed_amount_contracts
