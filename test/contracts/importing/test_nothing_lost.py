"""Nothing lost, nothing invented: long values load whole, empty areas stay empty, counts add up.

Against PostgreSQL (the COPY path) and, in a subprocess, SQLite (the ORM path).
"""

from __future__ import annotations

import csv
import io
import os
import random
import string
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from django.db.models import Sum
from django.urls import reverse

from contracts.importing.columns import ColumnMap
from contracts.importing.loader import contracts_import
from contracts.importing.parsing import RowParser, contract_record_from
from contracts.importing.values import BadValue, parse_amount
from contracts.models import Area, Contract, Contractor, DatasetVersion

FIXTURES = Path(__file__).parent / "fixtures"
ROOT = Path(__file__).resolve().parents[3]

# The longest Area of Delivery in the real data: every province, 819 characters.
REAL_LONG_AREA = next(
    row["name"]
    for row in csv.DictReader((ROOT / "contracts" / "data" / "areas.csv").open(encoding="utf-8"))
    if len(row["name"]) == 819
)
HEADER = [
    "Procuring Entity (PE)",
    "Region",
    "Province",
    "Area of Delivery",
    "Notice Title",
    "Award Title",
    "Award Reference No.",
    "Procurement Mode",
    "Classification",
    "Award Date",
    "Contract Amount",
    "Awardee Organization Name",
]


def export(*rows: dict[str, str]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, HEADER, restval="NULL")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def row(reference: str, **cells: str) -> dict[str, str]:
    return {
        "Procuring Entity (PE)": "DPWH - NCR",
        "Award Title": "Road",
        "Award Reference No.": reference,
        "Award Date": "01/02/2024",
        "Contract Amount": "1000.00",
        "Awardee Organization Name": "ACME",
        **cells,
    }


def import_bytes(data: bytes, **kwargs):
    rejections = []
    summary = contracts_import(io.BytesIO(data), on_reject=rejections.append, **kwargs)
    return summary, rejections


def noise(length: int, seed: int) -> str:
    """Text that does not compress: a btree entry of it cannot shrink under its size limit."""
    rng = random.Random(seed)
    letters = "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(length))
    return " ".join(letters[i : i + 10] for i in range(0, length, 10))  # single spaces, as names are kept


@pytest.mark.django_db
def test_an_area_listing_every_province_is_kept_whole_and_the_totals_match_the_csv():
    data = export(
        row("1", **{"Area of Delivery": REAL_LONG_AREA, "Contract Amount": "995435.43"}),
        row("2", **{"Area of Delivery": "Metro Manila", "Contract Amount": "1,234.56"}),
        row("3", **{"Area of Delivery": REAL_LONG_AREA, "Contract Amount": "0.01"}),
    )
    summary, rejections = import_bytes(data)

    assert (summary.created, summary.rejected, rejections) == (3, 0, [])
    assert Contract.objects.get(reference_id="1").area.name == REAL_LONG_AREA
    assert Area.objects.filter(name=REAL_LONG_AREA).count() == 1
    exact = sum(parse_amount(r["Contract Amount"]) for r in csv.DictReader(io.StringIO(data.decode())))
    assert Contract.objects.aggregate(total=Sum("amount"))["total"] == exact == Decimal("996670.00")


@pytest.mark.django_db
def test_the_longest_delivery_list_is_a_chip_and_a_drill_down_like_any_area(alice_client):
    """Autocomplete and the area table offer the whole list as a value: asking for it works."""
    import_bytes(export(row("1", **{"Area of Delivery": REAL_LONG_AREA}), row("2")))

    def post(name: str, body: dict) -> dict:
        response = alice_client.post(reverse(name), body, format="json")
        assert response.status_code == 200, response.content
        return response.json()

    found = post("chip-search", {"filters": {"areas": [REAL_LONG_AREA.lower()]}})
    related = post(
        "chip-related-entities",
        {"filters": {}, "dimension": "area", "name": REAL_LONG_AREA, "target": "contractor"},
    )
    assert [r["reference_id"] for r in found["results"]] == ["1"]
    assert related["results"] == [{"name": "ACME", "count": 1, "total_amount": "1000.00"}]


@pytest.mark.django_db
def test_a_cell_longer_than_the_csv_modules_default_limit_is_kept_whole():
    """The csv module stops at 131,072 characters a cell; a pasted specification can be longer."""
    title = noise(300_000, 6)
    data = export(row("1", **{"Notice Title": title}), row("2"))

    summary, rejections = import_bytes(data)

    assert (summary.created, rejections) == (2, [])
    assert Contract.objects.get(reference_id="1").notice_title == title


@pytest.mark.django_db
def test_a_nul_in_a_cell_is_dropped_not_a_failed_import():
    """PostgreSQL's text cannot hold a NUL; a stray one (padding) must not stop the import."""
    data = export(row("1", **{"Award Title": "Road\x00 widening"}), row("2"))

    summary, rejections = import_bytes(data)

    assert (summary.created, rejections) == (2, [])
    assert Contract.objects.get(reference_id="1").title == "Road widening"


@pytest.mark.django_db
def test_a_number_too_long_to_read_is_a_rejected_row_not_a_failed_import():
    """A float of 400 nines is infinite and an int of 5,000 digits is past Python's limit."""
    out = io.StringIO()
    writer = csv.DictWriter(out, [*HEADER, "Line Item No"], restval="NULL")
    writer.writeheader()
    writer.writerows(
        [
            row("1", **{"Award Date": "9" * 400}),
            row("2", **{"Line Item No": "9" * 400}),
            row("3", **{"Line Item No": "1" * 5000}),
            row("4", **{"Line Item No": "2"}),
        ]
    )

    summary, rejections = import_bytes(out.getvalue().encode())

    assert summary.created == 1
    assert [(r.line, r.reason.split(":")[0]) for r in rejections] == [
        (2, "award date"),
        (3, "line item"),
        (4, "line item"),
    ]
    assert all(len(r.reason) < 120 for r in rejections)
    assert list(Contract.objects.values_list("reference_id", flat=True)) == ["4-2"]


@pytest.mark.django_db
def test_an_amount_of_a_quadrillion_or_more_is_rejected_in_every_spelling():
    """SQLite reads an amount within 50 pesos of 10^16 back as 10^16, which the column cannot
    hold, so any query returning it failed; the plain spelling takes the importer's fast path."""
    data = export(
        row("1", **{"Contract Amount": "9999999999999999.99"}),
        row("2", **{"Contract Amount": "1,000,000,000,000,000"}),
        row("3", **{"Contract Amount": "999999999999999.99"}),
    )

    summary, rejections = import_bytes(data)

    assert summary.created == 1
    assert [(r.line, r.reason.split(" '")[0]) for r in rejections] == [
        (2, "contract amount: amount out of range"),
        (3, "contract amount: amount out of range"),
    ]
    assert Contract.objects.get().amount == Decimal("999999999999999.99")


@pytest.mark.django_db
def test_no_text_is_refused_for_its_length():
    name, area, title = noise(4000, 1), noise(6000, 2), noise(20_000, 3)
    mode, classification = noise(3000, 4), noise(3000, 5)
    reference = "7" * 400
    data = export(
        row(
            reference,
            **{
                "Awardee Organization Name": name,
                "Procuring Entity (PE)": name,
                "Area of Delivery": area,
                "Award Title": title,
                "Notice Title": title,
                "Procurement Mode": mode,
                "Classification": classification,
            },
        )
    )

    summary, rejections = import_bytes(data)
    again, _ = import_bytes(data)

    assert (summary.created, rejections) == (1, [])
    contract = Contract.objects.get(reference_id=reference)
    assert (contract.contractor.name, contract.organization.name, contract.area.name) == (name, name, area)
    assert contract.title == title
    assert (contract.procurement_mode, contract.classification) == (mode, classification)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 1)  # found again through md5(name)


@pytest.mark.django_db
def test_an_empty_area_stays_empty_and_the_entity_location_has_its_own_columns():
    data = export(
        row("1", **{"Area of Delivery": "", "Province": "Cebu", "Region": "Region VII"}),
        row("2", **{"Area of Delivery": "NULL", "Region": "NCR"}),
        row("3", **{"Area of Delivery": "Leyte", "Province": "Cebu"}),
    )

    import_bytes(data)

    located = {
        c.reference_id: (c.area.name if c.area else None, c.organization_province, c.organization_region)
        for c in Contract.objects.select_related("area")
    }
    assert located == {
        "1": (None, "Cebu", "Region VII"),
        "2": (None, "", "NCR"),
        "3": ("Leyte", "Cebu", ""),
    }
    assert not Area.objects.filter(name__in=["Cebu", "Region VII", "NCR"]).exists()


@pytest.mark.django_db
def test_one_import_counts_created_updated_and_unchanged_rows():
    import_bytes(export(row("1"), row("2"), row("3")))
    version = DatasetVersion.current()

    summary, _ = import_bytes(
        export(
            row("1"),
            row("2", **{"Contract Amount": "2000.00"}),
            row("4"),
            row("4", **{"Award Title": "Bridge"}),
        ),
        batch_size=2,
    )

    assert (summary.created, summary.updated, summary.unchanged, summary.superseded) == (1, 1, 1, 1)
    assert Contract.objects.get(reference_id="2").amount == Decimal("2000.00")
    assert Contract.objects.get(reference_id="4").title == "Bridge"
    assert summary.dataset_version == DatasetVersion.current() == version + 1


@pytest.mark.django_db
def test_names_found_in_one_batch_are_reused_by_the_next():
    rows = [row(str(n), **{"Awardee Organization Name": f"CONTRACTOR {n % 3}"}) for n in range(1, 10)]

    summary, _ = import_bytes(export(*rows), batch_size=2)

    assert summary.created == 9
    assert Contractor.objects.count() == 3


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("bid_award_details_*.csv")))
def test_the_fast_row_parser_agrees_with_the_thorough_one(path):
    """RowParser takes shortcuts for usual cells; every row must come out as contract_record_from says."""
    with path.open(newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(f)
        columns = ColumnMap.from_header(next(reader))
        rows = [r for r in reader if r]
    variants = ("", "NULL", " 1,000.5 ", "-3", "0", "2.0", "x")
    edge_cases = [[*r[:j], variant, *r[j + 1 :]] for r in rows for j in range(len(r)) for variant in variants]
    parse = RowParser(columns)
    for cells in rows + edge_cases:
        try:
            fast = parse(list(cells))
        except BadValue as error:
            fast = str(error)
        try:
            thorough = contract_record_from(columns.values(cells))
        except BadValue as error:
            thorough = str(error)
        assert fast == thorough, cells


def test_sqlite_imports_through_the_orm_with_the_same_counts(tmp_path: Path):
    """`make run` without PostgreSQL: the same command, without COPY."""
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}",
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
    }
    manage = [sys.executable, str(ROOT / "manage.py")]
    long_area = tmp_path / "long_area.csv"
    long_area.write_bytes(export(row("1", **{"Area of Delivery": REAL_LONG_AREA})))
    subprocess.run([*manage, "migrate", "-v0"], env=env, check=True, timeout=120)

    def run(path: Path) -> str:
        done = subprocess.run(
            [*manage, "import_contracts", str(path), "--no-progress"],
            env=env,
            check=True,
            timeout=120,
            capture_output=True,
            text=True,
        )
        return done.stdout

    first = run(FIXTURES / "bid_award_details_2024.csv")
    second = run(FIXTURES / "bid_award_details_2024.csv")
    third = run(long_area)

    assert "Imported: 5 (created 5, updated 0; unchanged 0," in first
    assert "Imported: 0 (created 0, updated 0; unchanged 5," in second
    assert "No data changed" in second
    assert "Imported: 1 (created 1," in third
