"""Chips find names and titles with letters outside A-Z on SQLite too (`make run`'s default).

SQLite's own UPPER leaves "ñ" lower case, so "Santo Niño" could not be selected by any chip
there; the suite otherwise runs on PostgreSQL, so these tests run `manage.py` on a SQLite
file of their own.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from contracts.unicode_upper import upper_simple
from test.support.sqlite_demo import sqlite_demo_env

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("text", "upper"),
    [
        ("Santo Niño, Las Piñas", "SANTO NIÑO, LAS PIÑAS"),
        ("road", "ROAD"),
        ("Straße", "STRAßE"),  # one character stays one character, as in PostgreSQL
        ("ﬁre ǅ é", "ﬁRE Ǆ É"),
        ("", ""),
    ],
)
def test_upper_simple_maps_each_character_to_one(text, upper):
    assert upper_simple(text) == upper


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True)


# Each chip's contracts by reference, from the database and then from a columnar snapshot.
CHIPS_BY_ENGINE = """
import django, json
django.setup()
import datetime as dt
from decimal import Decimal
from django.test import override_settings
from contracts.columnar import build_snapshot
from contracts.filters import ContractFilters
from contracts.models import Area, BusinessCategory, Contract, Contractor, DatasetVersion, Organization
from contracts.selectors import contract_search

def entity(model, name):
    return model.objects.get_or_create(name=name)[0]

def add(reference, title, contractor, area):
    Contract.objects.create(
        reference_id=reference, title=title, notice_title="", amount=Decimal("100.00"),
        award_date=dt.date(2023, 1, 1), contractor=entity(Contractor, contractor),
        organization=entity(Organization, "City of Parañaque"), area=entity(Area, area),
        business_category=entity(BusinessCategory, "Construction Projects"),
    )

add("U-1", "Chapel repair, Santo Niño", "Niño Builders", "Parañaque City")
add("U-2", "Desk supply", "ÑANDU TRADING", "Las Piñas, Parañaque City")
DatasetVersion.bump()
chips = {
    "keyword": ContractFilters(keywords=("niño",)),
    "contractor": ContractFilters(contractors=("niño builders",)),
    "contractor by its exact name": ContractFilters(contractors=("Niño Builders",)),
    "organization": ContractFilters(organizations=("CITY OF PARAÑAQUE",)),
    "area": ContractFilters(areas=("parañaque city",)),
    "area in a delivery list": ContractFilters(areas=("LAS PIÑAS",)),
}

def found():
    return {
        name: [row["reference_id"] for row in contract_search(
            filters=f, ordering="reference_id", page=1, page_size=10)["results"]]
        for name, f in chips.items()
    }

with override_settings(COLUMNAR_ENABLED=False):
    database = found()
assert build_snapshot() is not None
print(json.dumps({"database": database, "columnar": found()}))
"""

EXPECTED = {
    "keyword": ["U-1"],
    "contractor": ["U-1"],
    "contractor by its exact name": ["U-1"],
    "organization": ["U-1", "U-2"],
    "area": ["U-1", "U-2"],
    "area in a delivery list": ["U-2"],
}


def chips_by_engine(env: dict[str, str]) -> dict[str, dict[str, list[str]]]:
    result = subprocess.run(
        [sys.executable, "-c", CHIPS_BY_ENGINE], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_sqlite_chips_match_letters_outside_a_to_z_in_both_engines(tmp_path):
    env = sqlite_demo_env(tmp_path)
    manage(env, "migrate", "-v", "0")
    assert chips_by_engine(env) == {"database": EXPECTED, "columnar": EXPECTED}


def md5_hex(text: str) -> str:
    """SQLite's MD5(), as Django registers it on its own connections."""
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def test_migrating_rebuilds_name_indexes_that_sqlites_own_upper_filled(tmp_path):
    """A database from before the function: its index holds "NIñO BUILDERS" until rebuilt."""
    env = sqlite_demo_env(tmp_path)
    manage(env, "migrate", "contracts", "0005", "-v", "0")
    with sqlite3.connect(tmp_path / "db.sqlite3") as db:  # SQLite's built-in UPPER fills the index
        db.create_function("MD5", 1, md5_hex, deterministic=True)  # for the unique index on MD5(name)
        db.execute("INSERT INTO contracts_contractor (name) VALUES ('Niño Builders')")
        indexed = db.execute(
            "SELECT COUNT(*) FROM contracts_contractor INDEXED BY contractor_uname WHERE UPPER(name) = ?",
            ["NIñO BUILDERS"],
        ).fetchone()
    assert indexed == (1,)
    manage(env, "migrate", "-v", "0")
    found = chips_by_engine(env)
    assert found["database"]["contractor"] == ["U-1"]
    assert found == {"database": EXPECTED, "columnar": EXPECTED}
