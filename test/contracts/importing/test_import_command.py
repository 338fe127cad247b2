"""`manage.py import_contracts`: arguments, rejects on stderr, the summary."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from contracts.models import Contract, DatasetVersion

FIXTURES = Path(__file__).parent / "fixtures"
NEWER = FIXTURES / "bid_award_details_2024.csv"

pytestmark = pytest.mark.django_db


def import_contracts(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_contracts", *args, "--no-progress", stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_it_prints_a_summary():
    out, _ = import_contracts(str(NEWER))

    assert "Rows read: 11\n" in out
    assert "Imported: 5 (created 5, updated 0; unchanged 0, superseded by a later row 0)\n" in out
    assert "Skipped (unawarded): 2\n" in out
    assert "Rejected: 4\n" in out
    assert "rows/s)" in out
    assert f"Dataset version is now {DatasetVersion.current()}." in out


def test_a_reimport_says_nothing_changed():
    import_contracts(str(NEWER))

    out, _ = import_contracts(str(NEWER), "--batch-size", "2")

    assert "Imported: 0 (created 0, updated 0; unchanged 5," in out
    assert "No data changed" in out
    assert Contract.objects.count() == 5


def test_rejected_rows_go_to_stderr_with_line_numbers():
    _, err = import_contracts(str(NEWER))

    assert err.splitlines() == [
        "line 8 (bid reference 10005): rejected: award date: bad date '32/13/2024'",
        "line 9 (bid reference 10006): rejected: contract amount: bad amount 'TBD'",
        "line 10 (bid reference 10007): rejected: no usable award reference ('0')",
        "line 12 (bid reference 10009): rejected: missing procuring entity",
    ]


def test_it_writes_a_rejects_report(tmp_path):
    report = tmp_path / "rejects.csv"

    import_contracts(str(NEWER), "--rejects", str(report))

    with report.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [(row["line"], row["Bid Reference No."]) for row in rows] == [
        ("8", "10005"),
        ("9", "10006"),
        ("10", "10007"),
        ("12", "10009"),
    ]
    assert rows[0]["reason"] == "award date: bad date '32/13/2024'"


def test_a_missing_required_column_fails_with_the_column_names():
    with pytest.raises(CommandError, match=r'missing required column\(s\): "Contract Amount"; "Award Date"'):
        import_contracts(str(FIXTURES / "missing_columns.csv"))
    assert not Contract.objects.exists()


def test_a_missing_file_fails_clearly(tmp_path):
    with pytest.raises(CommandError, match="cannot read"):
        import_contracts(str(tmp_path / "nope.csv"))


def test_a_directory_or_an_unwritable_rejects_report_fails_clearly(tmp_path):
    with pytest.raises(CommandError, match=r"cannot open .*: Is a directory"):
        import_contracts(str(tmp_path))
    with pytest.raises(CommandError, match=r"cannot open .*nowhere.*: No such file or directory"):
        import_contracts(str(NEWER), "--rejects", str(tmp_path / "nowhere" / "rejects.csv"))
    assert not Contract.objects.exists()


def test_a_header_not_in_the_files_encoding_fails_clearly(tmp_path):
    """A command error naming the encoding, not a traceback; nothing is written."""
    latin = tmp_path / "latin.csv"
    latin.write_bytes(NEWER.read_bytes().replace(b"Procuring Entity", b"Procuring Entit\xe9", 1))

    with pytest.raises(CommandError, match=r"not utf-8-sig text \(line 1\).*--encoding"):
        import_contracts(str(latin))
    assert not Contract.objects.exists()


@pytest.mark.parametrize("size", ["0", "-5", "many"])
def test_the_batch_size_must_be_positive(size):
    with pytest.raises(CommandError, match="at least 1"):
        import_contracts(str(NEWER), "--batch-size", size)


def test_the_progress_bar_can_run(capsys):
    out = io.StringIO()
    call_command("import_contracts", str(NEWER), stdout=out, stderr=io.StringIO())

    assert "Rows read: 11" in out.getvalue()
    assert "import" in capsys.readouterr().err  # tqdm draws on the real stderr
