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

import duckdb
import pytest
from django.db import connection

from contracts.columnar.snapshot import upper_like_database as snapshot_upper
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
        ("ᾳ ß", "ᾼ ß"),  # a subscript iota's one-character upper case is its title case
        ("", ""),
    ],
)
def test_upper_simple_maps_each_character_to_one(text, upper):
    assert upper_simple(text) == upper


# Every character outside the surrogates up to U+30000 (the supplementary planes in use).
EVERY_CHARACTER = [chr(c) for c in range(0x20, 0x30000) if not 0xD800 <= c <= 0xDFFF]


def database_upper() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT UPPER(c) FROM unnest(%s::text[]) WITH ORDINALITY AS t(c, i) ORDER BY i",
            [EVERY_CHARACTER],
        )
        return [row[0] for row in cursor.fetchall()]


@pytest.mark.django_db
def test_upper_simple_is_the_databases_upper_for_every_character():
    """Chips are upper-cased in Python and compared with UPPER(name): one differing letter
    makes a name no chip can select (a chip "Straße" became "STRASSE" and found nothing)."""
    differing = [
        (f"U+{ord(c):04X}", expected, upper_simple(c))
        for c, expected in zip(EVERY_CHARACTER, database_upper(), strict=True)
        if upper_simple(c) != expected
    ]
    assert differing == []


@pytest.mark.django_db
def test_the_snapshots_title_copy_is_the_databases_upper_for_every_character():
    """Keyword chips scan the snapshot's upper-case titles; DuckDB's own upper() makes "ß" "ẞ"."""
    db = duckdb.connect()
    db.execute(
        "CREATE TABLE t AS SELECT unnest($1) AS title, generate_subscripts($1, 1) AS i", [EVERY_CHARACTER]
    )
    snapshot = [
        row[0] for row in db.execute(f"SELECT {snapshot_upper('title')} FROM t ORDER BY i").fetchall()
    ]
    expected = database_upper()
    differing = [
        (f"U+{ord(c):04X}", want, got)
        for c, want, got in zip(EVERY_CHARACTER, expected, snapshot, strict=True)
        if want != got
    ]
    assert differing == []
    # Upper-cased around each "ß", a whole title keeps its other letters' mapping.
    (title,) = db.execute(f"SELECT {snapshot_upper('$1')}", ["Straße ßß aßbß"]).fetchone()
    assert title == "STRAßE ßß AßBß"


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


# The contractor a chip finds through the UPPER(name) index, on a SQLite database.
CHIP_THROUGH_THE_INDEX = """
import django, json, sys
django.setup()
from django.db.models.functions import Upper
from contracts.filters import normalized_name
from contracts.models import Contractor
names = Contractor.objects.annotate(u=Upper("name")).filter(u=normalized_name(sys.argv[1]))
print(json.dumps(list(names.values_list("name", flat=True))))
"""


def test_migrating_rebuilds_name_indexes_filled_before_greek_subscript_iotas_were_mapped(tmp_path):
    """0007: entries filled when "ᾳ" was left as it is, as the function did before it."""
    env = sqlite_demo_env(tmp_path)
    manage(env, "migrate", "contracts", "0006", "-v", "0")

    def upper_before(value: str) -> str:
        return "".join(u if len(u := c.upper()) == 1 else c for c in value)

    with sqlite3.connect(tmp_path / "db.sqlite3") as db:
        db.create_function("MD5", 1, md5_hex, deterministic=True)
        db.create_function("UPPER", 1, upper_before, deterministic=True)
        db.execute("INSERT INTO contracts_contractor (name) VALUES ('ᾳ builders')")

    def found(chip: str) -> list[str]:
        result = subprocess.run(
            [sys.executable, "-c", CHIP_THROUGH_THE_INDEX, chip],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        return json.loads(result.stdout.strip().splitlines()[-1])

    assert found("ᾳ builders") == []  # the index still holds "ᾳ BUILDERS"
    manage(env, "migrate", "-v", "0")
    assert found("ᾳ builders") == found("ᾼ BUILDERS") == ["ᾳ builders"]
