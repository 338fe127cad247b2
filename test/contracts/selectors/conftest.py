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
