"""Writing an export's file (data_processing/exports.py), apart from the job around it."""

from __future__ import annotations

import uuid

import pytest

from data_processing.exceptions import JobCancelled, NoSpaceForFile
from data_processing.exports import ROWS_PER_PROGRESS_STEP, export_path, partial_path, write_export


def test_an_export_stopped_midway_lets_go_of_its_rows_at_once_and_leaves_no_file(tmp_path, settings):
    """Its rows come from an open cursor: held until the traceback went, it kept a read lock
    on SQLite (which held up every other process's writes) and a snapshot on PostgreSQL."""
    settings.MEDIA_ROOT = tmp_path
    released = []

    def rows():
        try:
            yield "header\n"
            for n in range(ROWS_PER_PROGRESS_STEP * 3):
                yield f"{n}\n"
        finally:
            released.append(True)

    def cancelled(done: int, total: int, message: str) -> None:
        raise JobCancelled("stopped")

    lines = rows()
    with pytest.raises(JobCancelled):
        write_export(
            job_id="stopped", attempt=1, name="contracts", lines=lines, total=10, on_progress=cancelled
        )

    assert released == [True]
    assert not export_path("stopped").exists()
    assert not partial_path("stopped", 1).exists()


def test_a_full_disk_is_said_plainly_and_leaves_no_file(tmp_path, settings):
    """/dev/full answers every write with ENOSPC, as a full disk does."""
    settings.MEDIA_ROOT = tmp_path
    export_path("full").parent.mkdir(parents=True, exist_ok=True)
    partial_path("full", 1).symlink_to("/dev/full")
    lines = (f"{n}\n" for n in range(ROWS_PER_PROGRESS_STEP * 3))

    with pytest.raises(NoSpaceForFile, match="disk is full"):
        write_export(
            job_id="full", attempt=1, name="contracts", lines=lines, total=10, on_progress=lambda *_: None
        )

    assert not export_path("full").exists()
    assert not partial_path("full", 1).exists()


def test_two_attempts_at_one_export_that_overlap_each_leave_a_whole_file(tmp_path, settings):
    """A worker the sweeper took for lost may only have been slow: its attempt and the next
    then write at once. Sharing a temporary file, the second truncated the first's mid-write,
    and the file renamed into place mixed the two."""
    settings.MEDIA_ROOT = tmp_path
    rows = ROWS_PER_PROGRESS_STEP * 3
    job_id = str(uuid.uuid4())

    def second_attempt() -> dict:
        lines = (f"second,{n}\n" for n in range(rows + 1))
        return write_export(
            job_id=job_id, attempt=2, name="contracts", lines=lines, total=rows, on_progress=_none
        )

    def first_attempt_lines():
        yield "first,header\n"
        for n in range(rows):
            if n == rows // 2:
                second.append(second_attempt())  # the next attempt runs whole, mid-way through this one
            yield f"first,{n}\n"

    second: list[dict] = []
    first = write_export(
        job_id=job_id,
        attempt=1,
        name="contracts",
        lines=first_attempt_lines(),
        total=rows,
        on_progress=_none,
    )

    written = export_path(job_id).read_text()
    assert written == "first,header\n" + "".join(f"first,{n}\n" for n in range(rows))  # the last rename wins
    assert first["row_count"] == second[0]["row_count"] == rows
    assert first["file_size"] == len(written)
    assert sorted(path.name for path in export_path(job_id).parent.iterdir()) == [f"{job_id}.csv"]


def _none(done: int, total: int, message: str) -> None:
    return None
