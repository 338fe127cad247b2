"""Writing an export's file (data_processing/exports.py), apart from the job around it."""

from __future__ import annotations

import pytest

from data_processing.exceptions import JobCancelled, NoSpaceForFile
from data_processing.exports import ROWS_PER_PROGRESS_STEP, export_path, write_export


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
        write_export(job_id="stopped", name="contracts", lines=lines, total=10, on_progress=cancelled)

    assert released == [True]
    assert not export_path("stopped").exists()
    assert not export_path("stopped").with_suffix(".part").exists()


def test_a_full_disk_is_said_plainly_and_leaves_no_file(tmp_path, settings):
    """/dev/full answers every write with ENOSPC, as a full disk does."""
    settings.MEDIA_ROOT = tmp_path
    export_path("full").parent.mkdir(parents=True, exist_ok=True)
    export_path("full").with_suffix(".part").symlink_to("/dev/full")
    lines = (f"{n}\n" for n in range(ROWS_PER_PROGRESS_STEP * 3))

    with pytest.raises(NoSpaceForFile, match="disk is full"):
        write_export(job_id="full", name="contracts", lines=lines, total=10, on_progress=lambda *_: None)

    assert not export_path("full").exists()
    assert not export_path("full").with_suffix(".part").exists()
