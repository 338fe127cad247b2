"""What the parsing process sends the writer for each record: no database and no Django here,
so the process that parses needs neither (see `pipeline`).

For COPY (PostgreSQL) a record is sent as a `CopyItem`, strings only: the COPY text of its own
columns, and the entity names the writer turns into ids. Pickling strings costs a fraction of
pickling the record's Decimals and dates, and the writer then only joins text.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from .parsing import ContractRecord

# COPY's text format: backslash escapes for these, \N for NULL.
_COPY_RESERVED = re.compile(r"[\\\t\n\r]")
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
NULL = "\\N"


class CopyItem(NamedTuple):
    """A record ready for COPY but for its entity ids, which only the database knows."""

    reference_id: str
    contractor: str
    area: str | None
    organization: str
    business_category: str | None
    text: str  # COPY_TEXT_COLUMNS, tab-separated and escaped


# The columns of `CopyItem.text`, in order: ContractRecord's, less the entities.
COPY_TEXT_COLUMNS = tuple(name for name in ContractRecord._fields if name not in CopyItem._fields[1:5])


def copy_item(record: ContractRecord) -> CopyItem:
    """A record as a `CopyItem` (what `CopyBatchWriter` is sent)."""
    budget = record.approved_budget
    texts = (
        record.reference_id,
        record.title,
        record.notice_title,
        record.procurement_mode,
        record.classification,
        record.organization_province,
        record.organization_region,
    )
    if any(_COPY_RESERVED.search(value) for value in texts):
        texts = tuple(value.translate(_COPY_ESCAPES) for value in texts)
    reference, title, notice, mode, classification, province, region = texts
    return CopyItem(
        record.reference_id,
        record.contractor,
        record.area,
        record.organization,
        record.business_category,
        "\t".join(
            (
                reference,
                title,
                notice,
                str(record.amount),
                record.award_date.isoformat(),
                mode,
                classification,
                NULL if budget is None else str(budget),
                province,
                region,
            )
        ),
    )


def same_record(record: ContractRecord) -> ContractRecord:
    """What `OrmBatchWriter` is sent: the record itself."""
    return record
