"""`manage.py generate_contracts` against PostgreSQL (COPY needs real transactions)."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Count, F, Max, Min, Sum

from contracts.models import Area, BusinessCategory, Contract, Contractor, DatasetVersion, Organization

pytestmark = pytest.mark.django_db(transaction=True)

ROW_FIELDS = (
    "reference_id",
    "title",
    "contractor__name",
    "organization__name",
    "area__name",
    "business_category__name",
    "amount",
    "award_date",
    "procurement_mode",
    "classification",
    "approved_budget",
)


def generate(*args: str) -> str:
    out = StringIO()
    call_command("generate_contracts", *args, "--no-progress", stdout=out)
    return out.getvalue()


def rows() -> list[tuple]:
    return list(Contract.objects.order_by("reference_id").values_list(*ROW_FIELDS))


def test_the_same_count_and_seed_give_identical_rows():
    generate("--count", "3000", "--seed", "7")
    first = rows()
    generate("--count", "3000", "--seed", "7", "--replace")
    assert rows() == first
    assert first[0][0] == "SYN-7-000000001"
    assert len(first) == 3000


def test_another_seed_gives_other_rows():
    generate("--count", "3000", "--seed", "7")
    first = rows()
    generate("--count", "3000", "--seed", "8", "--replace")
    second = rows()
    assert [r[1:] for r in second] != [r[1:] for r in first]
    assert second[0][0] == "SYN-8-000000001"


def test_it_refuses_to_mix_into_existing_contracts(make_contract):
    make_contract(reference_id="1234567")
    with pytest.raises(CommandError, match="--replace"):
        generate("--count", "100")
    assert list(Contract.objects.values_list("reference_id", flat=True)) == ["1234567"]


def test_replace_deletes_existing_contracts_and_their_entities(make_contract):
    make_contract(reference_id="1234567", contractor="ACME BUILDERS")
    generate("--count", "500", "--replace")
    assert Contract.objects.count() == 500
    assert not Contract.objects.exclude(reference_id__startswith="SYN-42-").exists()
    assert not Contractor.objects.filter(name="ACME BUILDERS").exists()


def test_append_continues_the_reference_numbers_with_new_rows():
    generate("--count", "1000")
    before = rows()
    generate("--count", "500", "--append")
    after = rows()
    assert after[:1000] == before
    assert [r[0] for r in after[1000:]] == [f"SYN-42-{n:09d}" for n in range(1001, 1501)]
    assert [r[1:] for r in after[1000:]] != [r[1:] for r in before[:500]]


def test_each_run_bumps_the_dataset_version():
    version = DatasetVersion.current()
    out = generate("--count", "200")
    assert DatasetVersion.current() == version + 1
    assert f"Dataset version is now {version + 1}" in out


def test_it_prints_a_summary():
    out = generate("--count", "2000")
    assert "Generated: 2,000 contracts (SYN-42-000000001 to SYN-42-000002000)" in out
    assert "rows/s" in out


def _schema() -> tuple[set, set]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'contracts_contract'")
        indexes = set(cursor.fetchall())
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = 'contracts_contract'::regclass"
        )
        constraints = set(cursor.fetchall())
    return indexes, constraints


def test_indexes_and_foreign_keys_dropped_for_the_copy_are_all_back():
    before = _schema()
    assert any("gin_trgm_ops" in definition for _, definition in before[0])
    generate("--count", "1000")
    assert _schema() == before


def test_distributions_roughly_hold_on_20000_rows():
    generate("--count", "20000")
    total = Contract.objects.count()
    assert total == 20_000

    areas = Contract.objects.values("area__name").annotate(n=Count("id")).order_by("-n")
    assert areas[0]["area__name"] == "Metro Manila"
    assert 0.10 <= areas[0]["n"] / total <= 0.20

    by_value = BusinessCategory.objects.annotate(value=Sum("contracts__amount")).order_by("-value")
    all_value = Contract.objects.aggregate(v=Sum("amount"))["v"]
    assert by_value[0].name == "Construction Projects"
    assert by_value[0].value / all_value > 0.5

    per_contractor = sorted(Contractor.objects.annotate(n=Count("contracts")).values_list("n", flat=True))
    assert min(per_contractor) >= 1
    assert max(per_contractor) >= 10 * statistics.median(per_contractor)

    amounts = list(Contract.objects.values_list("amount", flat=True))
    assert 155_000 / 3 <= statistics.median(amounts) <= 155_000 * 3

    years = Contract.objects.aggregate(first=Min("award_date"), last=Max("award_date"))
    assert (years["first"].year, years["last"].year) == (2001, 2025)
    recent = Contract.objects.filter(award_date__year__gte=2016).count()
    assert recent / total > 0.6  # later years carry more awards, as in the real data

    with_budget = Contract.objects.filter(approved_budget__isnull=False)
    assert with_budget.filter(approved_budget__gte=F("amount")).count() / with_budget.count() > 0.9

    modes = set(Contract.objects.values_list("procurement_mode", flat=True).distinct())
    assert {"Public Bidding", "Small Value Procurement", "Shopping"} <= modes
    for keyword in ("road", "supply", "medicines"):
        assert Contract.objects.filter(title__icontains=keyword).exists(), keyword
    assert Organization.objects.count() > 1000
    assert Area.objects.count() > 50


def test_sqlite_fallback_makes_the_demo_data(tmp_path: Path):
    """`make run` without PostgreSQL: bulk_create instead of COPY, same command."""
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}",
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
    }
    manage = [sys.executable, str(Path(__file__).resolve().parents[3] / "manage.py")]
    subprocess.run([*manage, "migrate", "-v0"], env=env, check=True, timeout=120)
    done = subprocess.run(
        [*manage, "generate_contracts", "--count", "3000", "--no-progress"],
        env=env,
        check=True,
        timeout=120,
        capture_output=True,
        text=True,
    )
    assert "Generated: 3,000 contracts" in done.stdout
    again = subprocess.run(
        [*manage, "generate_contracts", "--count", "10", "--no-progress"],
        env=env,
        timeout=120,
        capture_output=True,
        text=True,
    )
    assert again.returncode != 0
    assert "contracts already exist" in again.stderr
