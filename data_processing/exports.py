"""CSV export of every matching contract, streamed with constant memory.

Rows come in batches (from the columnar snapshot, or a server-side cursor) and go straight
to a temporary file, renamed into place only when complete, so a download never sees half a
file. The file is named after its job; the job services record it on the job row.

Each attempt at a job writes a temporary file of its own. Two runs of one job can overlap:
a worker the sweeper took for lost may only have been slow, and a message the broker
redelivers may reach a second worker while the first still runs. Sharing one temporary file,
the second run would truncate the first's mid-write and the file renamed into place would
mix the two; apart, each renames a whole file, and the last rename wins.
"""

from __future__ import annotations

import errno
import itertools
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from contracts.csv_format import CONTRACT_EXPORT_COLUMNS as EXPORT_COLUMNS
from contracts.csv_format import csv_lines
from contracts.filters import ContractFilters
from contracts.selectors.contract_export import contract_export_rows
from contracts.selectors.totals import matching_count

from .exceptions import NoSpaceForFile

ROWS_PER_PROGRESS_STEP = 2000


def export_directory() -> Path:
    directory = Path(settings.MEDIA_ROOT) / "exports"
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def export_path(job_id: str) -> Path:
    return export_directory() / f"{job_id}.csv"


def partial_path(job_id: str, attempt: int) -> Path:
    """Where attempt ``attempt`` at job ``job_id`` writes before its file is complete."""
    return export_directory() / f"{job_id}.{attempt}.part"


def export_contracts(
    *,
    job_id: str,
    attempt: int,
    filters: ContractFilters,
    on_progress: Callable[[int, int, str], None],
) -> dict[str, Any]:
    """Write the CSV of job ``job_id`` to ``export_path(job_id)``; returns what the client reads."""
    header = [header for _, header in EXPORT_COLUMNS]
    total = matching_count(filters=filters)
    lines = csv_lines(itertools.chain([header], contract_export_rows(filters=filters)))
    return write_export(
        job_id=job_id, attempt=attempt, name="contracts", lines=lines, total=total, on_progress=on_progress
    )


def write_export(
    *,
    job_id: str,
    attempt: int,
    name: str,
    lines: Iterable[str],
    total: int,
    on_progress: Callable[[int, int, str], None],
) -> dict[str, Any]:
    """Write ``lines`` (a header, then ``total`` rows) to ``export_path(job_id)`` through
    attempt ``attempt``'s temporary file, renamed into place when complete; returns what the
    client reads."""
    path = export_path(job_id)
    partial = partial_path(job_id, attempt)
    written = -1  # the header is not a row
    try:
        with partial.open("w", newline="", encoding="utf-8") as handle:
            for line in lines:
                handle.write(line)
                written += 1
                if written and written % ROWS_PER_PROGRESS_STEP == 0:
                    on_progress(written, total, f"Wrote {written:,} of {total:,} rows.")
        # This attempt's own file, measured before the rename: another attempt's may replace it.
        size = partial.stat().st_size
        os.replace(partial, path)
    except OSError as error:
        if error.errno in (errno.ENOSPC, errno.EDQUOT):
            raise NoSpaceForFile(
                "The export could not be written: the server's disk is full. Try again later."
            ) from error
        raise
    finally:
        partial.unlink(missing_ok=True)
        # An export stopped midway (cancelled, out of time, failed) lets go of its rows'
        # cursor now, not whenever its traceback is collected: a cursor left open holds a
        # snapshot on PostgreSQL and, on SQLite, a read lock.
        if close := getattr(lines, "close", None):
            close()
    return {
        "row_count": max(written, 0),
        "file_size": size,
        "filename": f"philgeps-{name}-{timezone.localdate():%Y%m%d}-{str(job_id)[:8]}.csv",
        "download_url": reverse("job-download", args=[job_id]),
    }


def stray_files_remove(*, finished_before: float, partial_before: float) -> int:
    """Remove the export files no job row will ever expire: finished files last written
    before ``finished_before`` and temporary ones before ``partial_before`` (Unix times).

    A worker killed outright (SIGKILL, the OOM killer) never runs the ``finally`` above and
    leaves its ``.part`` file behind; a deleted user takes their job rows, and with them the
    only record of their files. Both would stay on disk for good."""
    removed = 0
    for path in export_directory().iterdir():
        before = partial_before if path.suffix == ".part" else finished_before
        try:
            if path.is_file() and path.stat().st_mtime < before:
                path.unlink()
                removed += 1
        except FileNotFoundError:  # removed meanwhile (a cleanup on another host, a rerun)
            continue
    return removed
