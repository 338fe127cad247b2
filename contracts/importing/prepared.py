"""What the parsing process sends the writer for each record: no database and no Django here,
so the process that parses needs neither (see `pipeline`).

For COPY (PostgreSQL) a record is sent as the fields of a `CopyItem`, strings only: the COPY
text of its own columns, and the entity names the writer turns into ids. Pickling strings
costs a fraction of pickling the record's Decimals and dates, and the writer then only joins
text. They go as a plain tuple: a NamedTuple pickles in twice the time and unpickles in four
times (its class's Python __new__ per row), ~3 us a row between the two processes.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from .parsing import ContractRecord

# COPY's text format: backslash escapes for these, \N for NULL.
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
# Those that may hold any character (amounts, dates and NULL cannot).
_ESCAPED_TEXTS = tuple(
    at for at, name in enumerate(COPY_TEXT_COLUMNS) if name not in ("amount", "award_date", "approved_budget")
)


def copy_item(record: ContractRecord) -> tuple[Any, ...]:
    """A record as the fields of a `CopyItem`, in a plain tuple (what `CopyBatchWriter` is sent)."""
    budget = record.approved_budget
    texts = [
        record.reference_id,
        record.title,
        record.notice_title,
        str(record.amount),
        record.award_date.isoformat(),
        record.procurement_mode,
        record.classification,
        NULL if budget is None else str(budget),
        record.organization_province,
        record.organization_region,
    ]
    text = "\t".join(texts)
    # One look at the joined line: a reserved character in any value, or a tab (one too many).
    if "\\" in text or "\n" in text or "\r" in text or text.count("\t") != len(texts) - 1:
        for at in _ESCAPED_TEXTS:
            texts[at] = texts[at].translate(_COPY_ESCAPES)
        text = "\t".join(texts)
    entities = (record.contractor, record.area, record.organization, record.business_category)
    return (record.reference_id, *entities, text)


def same_record(record: ContractRecord) -> ContractRecord:
    """What `OrmBatchWriter` is sent: the record itself."""
    return record
