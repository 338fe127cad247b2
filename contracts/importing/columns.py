"""Which CSV column holds which field, found by header name, never by position.

PhilGEPS has renamed columns between export generations, and the number and
order of columns changes from year to year, so every field lists the names it has gone by,
newest first. Headers match ignoring case, surrounding and repeated whitespace, a trailing
full stop ("Line Item No" = "Line Item No.") and a UTF-8 byte order mark. Columns not listed
here (item descriptions, UNSPSC codes, awardee addresses, ...) are ignored, and so is
"Award Notice Status": whether a row was awarded is read from its awardee, which every
generation carries.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum


class Field(StrEnum):
    AWARD_REFERENCE = "award_reference"
    BID_REFERENCE = "bid_reference"
    LINE_ITEM = "line_item"
    AWARD_TITLE = "award_title"
    NOTICE_TITLE = "notice_title"
    AWARDEE = "awardee"
    PROCURING_ENTITY = "procuring_entity"
    AREA_OF_DELIVERY = "area_of_delivery"
    PROVINCE = "province"
    REGION = "region"
    BUSINESS_CATEGORY = "business_category"
    CLASSIFICATION = "classification"
    PROCUREMENT_MODE = "procurement_mode"
    APPROVED_BUDGET = "approved_budget"
    CONTRACT_AMOUNT = "contract_amount"
    AWARD_DATE = "award_date"


# Header names per field, newest spelling first (the first one found wins).
HEADER_NAMES: dict[Field, tuple[str, ...]] = {
    Field.AWARD_REFERENCE: ("Award Reference No.", "Award No."),
    Field.BID_REFERENCE: ("Bid Reference No.", "Reference ID"),
    Field.LINE_ITEM: ("Line Item No",),
    Field.AWARD_TITLE: ("Award Title",),
    Field.NOTICE_TITLE: ("Notice Title",),
    Field.AWARDEE: ("Awardee Organization Name", "Awardee Corporate Title"),
    Field.PROCURING_ENTITY: ("Procuring Entity (PE)", "Organization Name"),
    Field.AREA_OF_DELIVERY: ("Area of Delivery",),
    Field.PROVINCE: ("Province",),
    Field.REGION: ("Region",),
    Field.BUSINESS_CATEGORY: ("Business Category",),
    Field.CLASSIFICATION: ("Classification",),
    Field.PROCUREMENT_MODE: ("Procurement Mode",),
    Field.APPROVED_BUDGET: ("Approved Budget of the Contract",),
    Field.CONTRACT_AMOUNT: ("Contract Amount",),
    Field.AWARD_DATE: ("Award Date",),
}

# A file must carry at least one column of each group; a title may come from either column.
REQUIRED: tuple[tuple[Field, ...], ...] = (
    (Field.AWARD_REFERENCE,),
    (Field.AWARD_TITLE, Field.NOTICE_TITLE),
    (Field.AWARDEE,),
    (Field.PROCURING_ENTITY,),
    (Field.CONTRACT_AMOUNT,),
    (Field.AWARD_DATE,),
)


# Iterating an Enum is slow, and this runs once per row of a multi-million-row file.
_ALL_FIELDS = tuple(Field)


class MissingColumns(ValueError):
    """The header lacks columns the import cannot do without."""


def normalize_header(name: str) -> str:
    """The form in which two spellings of one header compare equal."""
    name = " ".join(name.replace("\ufeff", "").split()).casefold()
    return name.removesuffix(".").rstrip()


@dataclass(frozen=True)
class ColumnMap:
    """Positions of the known fields in one file's rows."""

    positions: dict[Field, int]
    width: int  # number of columns in the header

    @classmethod
    def from_header(cls, header: Sequence[str]) -> ColumnMap:
        """Map a header row, or raise MissingColumns naming every required column it lacks."""
        position_of: dict[str, int] = {}
        for index, name in enumerate(header):
            position_of.setdefault(normalize_header(name), index)
        positions: dict[Field, int] = {}
        for field, names in HEADER_NAMES.items():
            for name in names:
                if (index := position_of.get(normalize_header(name))) is not None:
                    positions[field] = index
                    break
        missing = [group for group in REQUIRED if not any(field in positions for field in group)]
        if missing:
            described = "; ".join(" or ".join(_spellings(field) for field in group) for group in missing)
            raise MissingColumns(f"missing required column(s): {described}")
        return cls(positions=positions, width=len(header))

    def values(self, row: Sequence[str]) -> dict[Field, str | None]:
        """The raw cell of each known field (None for a field this file has no column for)."""
        cells: dict[Field, str | None] = dict.fromkeys(_ALL_FIELDS)
        for field, index in self.positions.items():
            if index < len(row):
                cells[field] = row[index]
        return cells


def _spellings(field: Field) -> str:
    return " / ".join(f'"{name}"' for name in HEADER_NAMES[field])
