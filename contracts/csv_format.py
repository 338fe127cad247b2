"""What the CSV files look like: the contract export's columns and safe cells.

Declared here, beside the data, so that the export job (data_processing) writes them and
the export estimate (a selector) measures them from one definition.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

# (values_list path, header): the header names of PhilGEPS's own "Bid Notice and Award
# Details" export, so a file round-trips through import_contracts.
CONTRACT_EXPORT_COLUMNS = (
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

# (entity-table row key, header) of the entity-table export; the name column's header is
# the entity's label ("Contractor").
ENTITY_EXPORT_COLUMNS = (
    ("name", None),
    ("contract_count", "Contracts"),
    ("total_amount", "Total Amount (PHP)"),
    ("average_amount", "Average Amount (PHP)"),
    ("first_award_date", "First Award Date"),
    ("last_award_date", "Last Award Date"),
)

# A spreadsheet would run a cell that starts with one of these as a formula.
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA_PREFIXES):
        return "'" + value
    return value


def csv_lines(rows: Iterable[Iterable[Any]]) -> Iterable[str]:
    """Each row as one CSV line (safe cells), for streaming without a file."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow([safe_cell(value) for value in row])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
