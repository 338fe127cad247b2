"""Streaming PhilGEPS exports into contracts: mapping, skips, rejects, idempotent upserts."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from pathlib import Path

import pytest
from table_structure import contract_table_structure

from contracts.importing.columns import MissingColumns
from contracts.importing.loader import ImportFailed, ImportSummary, Rejection, contracts_import
from contracts.models import Contract, Contractor, DatasetVersion

FIXTURES = Path(__file__).parent / "fixtures"
NEWER = FIXTURES / "bid_award_details_2024.csv"
OLDER = FIXTURES / "bid_award_details_2012.csv"

pytestmark = pytest.mark.django_db


def run_import(path: Path | bytes, **kwargs) -> tuple[ImportSummary, list[Rejection]]:
    rejections: list[Rejection] = []
    stream = io.BytesIO(path) if isinstance(path, bytes) else path.open("rb")
    with stream:
        summary = contracts_import(stream, on_reject=rejections.append, **kwargs)
    return summary, rejections


def snapshot() -> dict[str, tuple]:
    """Every contract as plain values, entity names instead of ids."""
    return {
        c.reference_id: (
            c.title,
            c.notice_title,
            c.contractor.name,
            c.organization.name,
            c.area.name if c.area else None,
            c.business_category.name if c.business_category else None,
            c.amount,
            c.award_date,
            c.procurement_mode,
            c.classification,
            c.approved_budget,
        )
        for c in Contract.objects.select_related("contractor", "organization", "area", "business_category")
    }


def test_the_newer_header_generation_maps_every_field():
    summary, _ = run_import(NEWER)

    assert summary.created == 5
    road = Contract.objects.get(reference_id="20001")
    assert road.title == "Construction of Road, Phase 1 (Sta. 0+000 to 2+000)"
    assert road.notice_title == "Construction of Road, Phase 1"
    assert road.contractor.name == "ACME BUILDERS"
    assert road.organization.name == "DEPARTMENT OF PUBLIC WORKS AND HIGHWAYS - NCR"
    assert road.area.name == "Metro Manila"
    assert road.business_category.name == "Construction Projects"
    assert road.amount == Decimal("4700000.00")
    assert road.award_date == dt.date(2024, 10, 21)
    assert road.procurement_mode == "Public Bidding"
    assert road.classification == "Civil Works"
    assert road.approved_budget == Decimal("4718239.58")


def test_the_older_header_generation_maps_every_field():
    summary, rejections = run_import(OLDER)

    assert (summary.rows_read, summary.created, summary.skipped, summary.rejected) == (4, 2, 1, 1)
    paper = Contract.objects.get(reference_id="7001")
    assert paper.title == "Supply of Bond Paper"
    assert paper.contractor.name == "XYZ OFFICE SUPPLIES"
    assert paper.organization.name == "DEPARTMENT OF EDUCATION - REGION III"
    assert paper.area.name == "Pampanga"
    assert paper.business_category.name == "Office Supplies"
    assert paper.amount == Decimal("149500.00")
    assert paper.award_date == dt.date(2010, 3, 12)
    assert paper.approved_budget == Decimal("150000.00")
    assert Contract.objects.get(reference_id="7002").award_date == dt.date(2010, 5, 1)  # Excel serial
    assert [(r.line, r.reason) for r in rejections] == [(5, "contract amount: bad amount '1.234.567'")]


def test_both_generations_share_entities_by_name():
    run_import(NEWER)
    run_import(OLDER)

    acme = Contractor.objects.get(name="ACME BUILDERS")
    assert set(acme.contracts.values_list("reference_id", flat=True)) == {
        "20001",
        "20003",
        "20003-2",
        "20007",
        "7002",
    }


def test_value_quirks_are_read():
    run_import(NEWER)

    laptops = Contract.objects.get(reference_id="20002")
    assert laptops.award_date == dt.date(2024, 10, 21)  # Excel serial 45586
    assert laptops.amount == Decimal("1250000.00")  # "PHP 1,250,000"
    assert laptops.approved_budget is None  # the -1 placeholder
    assert laptops.title == "Supply and Delivery of Laptops"  # Award Title NULL: the notice title
    assert laptops.area is None  # Area of Delivery NULL stays empty
    assert (laptops.organization_province, laptops.organization_region) == ("Cebu", "Region VII")
    assert laptops.contractor.name == "JUAN DELA CRUZ TRADING"  # whitespace collapsed

    supplies = Contract.objects.get(reference_id="20003")
    assert supplies.title == "Supply of\nOffice Supplies, Lot 1"  # quoted, over two lines
    assert supplies.award_date == dt.date(2024, 10, 21)  # ISO with a time
    assert supplies.amount == Decimal("98500.50")  # "₱ 98,500.50"

    bins = Contract.objects.get(reference_id="20007")
    assert bins.area is None
    assert (bins.organization_province, bins.organization_region) == ("", "Region VII")
    assert bins.business_category is None
    assert bins.approved_budget is None
    assert bins.amount == Decimal("15000.00")


def test_each_line_item_of_an_award_is_its_own_contract():
    run_import(NEWER)

    first, second = Contract.objects.filter(reference_id__startswith="20003").order_by("reference_id")
    assert (first.reference_id, first.amount) == ("20003", Decimal("98500.50"))
    assert (second.reference_id, second.amount) == ("20003-2", Decimal("21499.50"))


def test_unawarded_rows_are_skipped_not_rejected():
    summary, rejections = run_import(NEWER)

    assert summary.skipped == 2
    assert not {r.line for r in rejections} & {4, 11}  # the two rows without an awardee
    assert not Contract.objects.filter(title__in=["Repair of School Buildings", "Procurement of Syringes"])


def test_bad_rows_are_reported_with_line_numbers_while_good_rows_load():
    summary, rejections = run_import(NEWER)

    # Line 5 starts a title that spans two lines, so the rows after it sit one line lower.
    assert [(r.line, r.bid_reference, r.reason) for r in rejections] == [
        (8, "10005", "award date: bad date '32/13/2024'"),
        (9, "10006", "contract amount: bad amount 'TBD'"),
        (10, "10007", "no usable award reference ('0')"),
        (12, "10009", "missing procuring entity"),
    ]
    assert (summary.rows_read, summary.created, summary.skipped, summary.rejected) == (11, 5, 2, 4)
    assert sorted(Contract.objects.values_list("reference_id", flat=True)) == [
        "20001",
        "20002",
        "20003",
        "20003-2",
        "20007",
    ]


def test_a_row_with_several_problems_names_them_all():
    header = b"Award No.,Award Title,Awardee Corporate Title,Organization Name,Contract Amount,Award Date\n"
    _, rejections = run_import(header + b"0,Road,ACME,NULL,abc,\n")

    assert rejections[0].reason == (
        "no usable award reference ('0'); missing procuring entity; "
        "contract amount: bad amount 'abc'; missing award date"
    )


def test_a_row_with_the_wrong_number_of_fields_is_rejected():
    header = b"Award No.,Award Title,Awardee Corporate Title,Organization Name,Contract Amount,Award Date\n"
    summary, rejections = run_import(header + b"1,Road, Phase 1,ACME,DPWH,100,01/01/2024\n")

    assert summary.rejected == 1
    assert rejections[0].reason == "expected 6 fields, found 7"
    assert not Contract.objects.exists()


def test_reimporting_the_same_file_changes_nothing():
    run_import(NEWER)
    before = snapshot()
    ids_before = dict(Contract.objects.values_list("reference_id", "id"))
    version_before = DatasetVersion.current()

    summary, _ = run_import(NEWER)

    assert (summary.created, summary.updated, summary.unchanged) == (0, 0, 5)
    assert summary.dataset_version is None
    assert snapshot() == before
    assert dict(Contract.objects.values_list("reference_id", "id")) == ids_before
    assert DatasetVersion.current() == version_before


def test_a_changed_row_is_updated_in_place():
    run_import(NEWER)
    changed = NEWER.read_bytes().replace(b'"4,700,000.00"', b'"4,650,000.00"')

    summary, _ = run_import(changed)

    assert (summary.created, summary.updated, summary.unchanged) == (0, 1, 4)
    assert Contract.objects.get(reference_id="20001").amount == Decimal("4650000.00")
    assert Contract.objects.count() == 5


def test_an_import_that_changes_data_bumps_the_dataset_version():
    before = DatasetVersion.current()

    summary, _ = run_import(NEWER)

    assert summary.dataset_version == before + 1
    assert DatasetVersion.current() == before + 1


def test_an_import_that_changes_nothing_leaves_the_version():
    before = DatasetVersion.current()
    header = b"Award No.,Award Title,Awardee Corporate Title,Organization Name,Contract Amount,Award Date\n"

    summary, _ = run_import(header + b"1,Road,,DPWH,100,01/01/2024\n")  # unawarded only

    assert summary.skipped == 1
    assert DatasetVersion.current() == before


def test_small_batches_give_the_same_result_as_one_big_batch():
    big, _ = run_import(NEWER, batch_size=5000)
    one_batch = snapshot()
    Contract.objects.all().delete()

    small, rejections = run_import(NEWER, batch_size=2)

    assert snapshot() == one_batch
    assert (small.rows_read, small.created, small.skipped, small.rejected) == (
        big.rows_read,
        big.created,
        big.skipped,
        big.rejected,
    )
    assert [r.line for r in rejections] == [8, 9, 10, 12]


@pytest.mark.parametrize("batch_size", [1, 2, 5000])
def test_every_row_is_counted_once(batch_size):
    summary, _ = run_import(NEWER, batch_size=batch_size)
    counted = (
        summary.created
        + summary.updated
        + summary.unchanged
        + summary.superseded
        + summary.skipped
        + summary.rejected
    )
    assert counted == summary.rows_read == 11


def test_a_later_row_for_the_same_reference_wins():
    header = b"Award No.,Award Title,Awardee Corporate Title,Organization Name,Contract Amount,Award Date\n"
    rows = b"1,Road,ACME,DPWH,100,01/01/2024\n1,Road,ACME,DPWH,200,01/01/2024\n"

    summary, _ = run_import(header + rows)

    assert (summary.created, summary.superseded) == (1, 1)
    assert Contract.objects.get(reference_id="1").amount == Decimal("200.00")


def test_a_missing_required_column_fails_before_writing_anything():
    with pytest.raises(MissingColumns) as raised:
        run_import(FIXTURES / "missing_columns.csv")

    assert '"Contract Amount"' in str(raised.value)
    assert '"Award Date"' in str(raised.value)
    assert not Contract.objects.exists()


def test_an_empty_file_fails_clearly():
    with pytest.raises(MissingColumns, match="empty"):
        run_import(b"")


def test_undecodable_text_stops_the_import_but_keeps_the_rows_before():
    header = b"Award No.,Award Title,Awardee Corporate Title,Organization Name,Contract Amount,Award Date\n"
    good = b"".join(b"%d,Road,ACME,DPWH,100,01/01/2024\n" % n for n in range(1, 400))
    bad = b"999,Road,CAF\xc9 BUILDERS,DPWH,100,01/01/2024\n"  # Latin-1, not UTF-8

    with pytest.raises(ImportFailed, match="not utf-8-sig text") as raised:
        run_import(header + good + bad * 300, batch_size=50)

    assert raised.value.summary.created == Contract.objects.count() > 0
    assert not Contract.objects.filter(reference_id="999").exists()
    assert "--encoding" in str(raised.value)  # what to do about it

    run_import(header + good + bad, encoding="cp1252")  # as Excel saves it

    assert Contract.objects.get(reference_id="999").contractor.name == "CAFÉ BUILDERS"


def test_progress_is_reported_in_bytes_up_to_the_whole_file(tmp_path):
    from contracts.importing.pipeline import BLOCK_BYTES

    header = b"Award No.,Award Title,Awardee Corporate Title,Organization Name,Contract Amount,Award Date\n"
    export = tmp_path / "export.csv"
    rows = b"".join(b"%d,Road,ACME,DPWH,100,01/01/2024\n" % n for n in range(1, 100_001))
    export.write_bytes(header + rows)
    seen: list[int] = []
    with export.open("rb") as stream:
        contracts_import(stream, on_progress=seen.append)

    assert seen == sorted(seen)
    assert len(seen) >= export.stat().st_size // BLOCK_BYTES  # once per block the parsers read
    assert seen[-1] == export.stat().st_size


def test_rejected_rows_can_be_written_to_a_report():
    report = io.StringIO()

    run_import(NEWER, rejects=report)

    lines = report.getvalue().splitlines()
    assert lines[0].startswith("line,reason,Procuring Entity (PE),Region,")
    assert lines[1].startswith("8,award date: bad date '32/13/2024',MUNICIPALITY OF TAYTAY,")
    assert len(lines) == 5


def test_the_bulk_and_incremental_paths_store_the_same_and_keep_every_index(monkeypatch):
    from contracts.importing import loader

    structure = contract_table_structure()
    stored: dict[bool, dict[str, tuple]] = {}
    decisions: list[bool] = []
    for bulk in (True, False):
        Contract.objects.all().delete()
        monkeypatch.setattr(
            loader, "bulk_load_pays", lambda new, existing, bulk=bulk: decisions.append(bulk) or bulk
        )

        newer, _ = run_import(NEWER, batch_size=2)
        older, rejections = run_import(OLDER, batch_size=2)

        assert contract_table_structure() == structure
        assert (newer.created, older.created, [r.line for r in rejections]) == (5, 2, [5])
        stored[bulk] = snapshot()
    assert decisions == [True, True, False, False]  # decided once per import
    assert stored[True] == stored[False]


def test_a_failed_bulk_import_still_rebuilds_every_index():
    structure = contract_table_structure()
    header = b"Award No.,Award Title,Awardee Corporate Title,Organization Name,Contract Amount,Award Date\n"
    good = b"".join(b"%d,Road,ACME,DPWH,100,01/01/2024\n" % n for n in range(1, 400))
    bad = b"999,Road,CAF\xc9 BUILDERS,DPWH,100,01/01/2024\n"

    with pytest.raises(ImportFailed) as raised:
        run_import(header + good + bad * 300, batch_size=50)

    assert raised.value.summary.created == Contract.objects.count() > 0
    assert contract_table_structure() == structure


def test_a_straight_copy_that_meets_a_stored_reference_falls_back_to_the_upsert():
    from contracts.importing.parsing import ExportReader
    from contracts.importing.writing import CopyBatchWriter

    run_import(NEWER)
    before = snapshot()
    with NEWER.open(encoding="utf-8-sig", newline="") as text:
        reader = ExportReader(text, encoding="utf-8-sig")
        reader.read_header()
        records = [CopyBatchWriter.prepare(parsed.record) for parsed in reader if parsed.record is not None]
    writer = CopyBatchWriter()
    writer._expect_new = True  # as after an all-new batch, or a race with another import

    assert writer.write(records) == (0, 0, 5)
    assert snapshot() == before
