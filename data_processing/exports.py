"""CSV export of every matching contract, streamed with constant memory.

Rows come from a server-side cursor and go straight to a temporary file, renamed into
place only when complete, so a download never sees half a file. The file is named after
its job; the job services record it on the job row.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from contracts.filters import ContractFilters, filter_contracts

EXPORT_COLUMNS = (
    ("reference_id", "Award Reference No."),
    ("award_date", "Award Date"),
    ("title", "Award Title"),
    ("contractor__name", "Awardee Organization Name"),
    ("organization__name", "Procuring Entity (PE)"),
    ("area__name", "Area of Delivery"),
    ("business_category__name", "Business Category"),
    ("procurement_mode", "Procurement Mode"),
    ("classification", "Classification"),
    ("approved_budget", "Approved Budget of the Contract"),
    ("amount", "Contract Amount"),
)
ROWS_PER_PROGRESS_STEP = 2000
# A spreadsheet would run a cell that starts with one of these as a formula.
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def export_directory() -> Path:
    directory = Path(settings.MEDIA_ROOT) / "exports"
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def export_path(job_id: str) -> Path:
    return export_directory() / f"{job_id}.csv"


def _safe_cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA_PREFIXES):
        return "'" + value
    return value


def export_contracts(
    *, job_id: str, filters: ContractFilters, on_progress: Callable[[int, int, str], None]
) -> dict[str, Any]:
    """Write the CSV of job ``job_id`` to ``export_path(job_id)``; returns what the client reads."""
    rows = filter_contracts(filters).order_by("award_date", "id").values_list(*(c for c, _ in EXPORT_COLUMNS))
    total = rows.count()
    path = export_path(job_id)
    partial = path.with_suffix(".part")
    written = 0
    try:
        with partial.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(header for _, header in EXPORT_COLUMNS)
            for row in rows.iterator(chunk_size=ROWS_PER_PROGRESS_STEP):
                writer.writerow([_safe_cell(value) for value in row])
                written += 1
                if written % ROWS_PER_PROGRESS_STEP == 0:
                    on_progress(written, total, f"Wrote {written:,} of {total:,} rows.")
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return {
        "row_count": written,
        "file_size": path.stat().st_size,
        "filename": f"philgeps-contracts-{timezone.localdate():%Y%m%d}-{str(job_id)[:8]}.csv",
        "download_url": reverse("job-download", args=[job_id]),
    }
