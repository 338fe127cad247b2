"""Parsing one PhilGEPS cell: the quirks of the real exports, in one place.

Every parser takes the raw cell text and returns a clean value, or None when the cell is
missing (empty, or the literal ``NULL`` in any case). A value that is present but cannot be
read raises `BadValue`, whose message becomes the reason a row is rejected.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

# Excel counts days from 1899-12-30 (that date absorbs its 1900 leap-year bug).
EXCEL_EPOCH = dt.date(1899, 12, 30)
# A bare number is only taken for an Excel serial inside 1970..2099: a stray "2024" or "7"
# in a date column is a broken cell, not a day in 1905 or 1900.
EXCEL_SERIAL_RANGE = (25569, 73050)

# Contract.amount is DECIMAL(18, 2), room for 16 digits before the point, but SQLite (`make
# run`'s default) keeps a decimal as a float that Django reads back to 15 significant digits
# (centavos are exact there below ten trillion pesos): an amount within 50 pesos of 10^16
# read back as 10^16, which the column cannot hold, and every query that returned the row
# failed. So the largest amount taken is a centavo under a quadrillion pesos, some ten
# thousand times the largest real award.
MAX_AMOUNT_DIGITS = 15  # before the point
MAX_AMOUNT = Decimal(10) ** MAX_AMOUNT_DIGITS
CENTS = Decimal("0.01")

# An optional time of day after a date ("2024-10-21 00:00:00", "2024-10-21T08:30:00.000Z").
_TIME = r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?"
_DAY_FIRST = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})" + _TIME)
_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})" + _TIME)
# An Excel serial: whole days, and perhaps a fraction (a time of day).
_SERIAL = re.compile(r"0*(\d+)(?:\.\d+)?")
# A line item number as spreadsheets write it ("2", "2.0"); more digits than this is no line item.
_LINE_ITEM = re.compile(r"0*(\d{1,9})(?:\.0+)?")
_CURRENCY = re.compile(r"^(?:PHP|₱)\s*", re.IGNORECASE)
# Either grouped thousands (1,234,567.89) or plain digits (1234567.89), never a mix.
_NUMBER = re.compile(r"[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?")


# A reason quotes the cell it could not read; a cell of a megabyte would make the report as long.
QUOTED_MAX = 80


class BadValue(ValueError):
    """A cell that is present but unreadable; the message says which and why."""


def quoted(value: str) -> str:
    """The cell as a rejection's reason quotes it, cut short past `QUOTED_MAX` characters."""
    return repr(value if len(value) <= QUOTED_MAX else f"{value[:QUOTED_MAX]}…")


def clean(raw: str | None) -> str | None:
    """The cell without surrounding spaces, or None for an empty cell or a NULL placeholder."""
    if raw is None:
        return None
    value = raw.strip()
    if not value or value.upper() == "NULL":
        return None
    return value


def parse_name(raw: str | None) -> str | None:
    """An entity name with runs of whitespace collapsed.

    Chip filters compare names with whitespace collapsed, so a stored double space would make
    a name unreachable; collapsing here also stops "ACME  INC" and "ACME INC" becoming two rows.
    """
    value = clean(raw)
    return " ".join(value.split()) if value else None


def parse_date(raw: str | None) -> dt.date | None:
    """A date written day first (21/10/2024), as ISO (2024-10-21, time allowed) or as an Excel serial."""
    value = clean(raw)
    if value is None:
        return None
    try:
        if match := _DAY_FIRST.fullmatch(value):
            day, month, year = (int(g) for g in match.groups())
            return dt.date(year, month, day)
        if match := _ISO.fullmatch(value):
            year, month, day = (int(g) for g in match.groups())
            return dt.date(year, month, day)
    except ValueError:
        raise BadValue(f"bad date {quoted(value)}") from None
    # The digits are counted before they are read: a cell of 400 nines is a broken cell, and
    # reading it as a float (infinite) or an int (past Python's 4,300-digit limit) would raise.
    if (match := _SERIAL.fullmatch(value)) and len(match[1]) <= 5:
        serial = int(match[1])  # the fraction is a time of day
        low, high = EXCEL_SERIAL_RANGE
        if low <= serial <= high:
            return EXCEL_EPOCH + dt.timedelta(days=serial)
    raise BadValue(f"bad date {quoted(value)}")


def parse_amount(raw: str | None) -> Decimal | None:
    """A peso amount such as ``4,718,239.58``, ``PHP 1,000`` or ``₱250``, rounded to centavos."""
    value = clean(raw)
    if value is None:
        return None
    number = _CURRENCY.sub("", value).replace(" ", "")
    if not _NUMBER.fullmatch(number):
        raise BadValue(f"bad amount {quoted(value)}")
    try:
        amount = Decimal(number.replace(",", "")).quantize(CENTS, rounding=ROUND_HALF_UP)
    except InvalidOperation:
        raise BadValue(f"bad amount {quoted(value)}") from None
    if abs(amount) >= MAX_AMOUNT:
        raise BadValue(f"amount out of range {quoted(value)}")
    return amount


def parse_budget(raw: str | None) -> Decimal | None:
    """An approved budget; the exports' placeholders (-1, 0, any non-positive value) mean unknown."""
    amount = parse_amount(raw)
    if amount is None or amount <= 0:
        return None
    return amount


def parse_reference(raw: str | None) -> str | None:
    """An award or bid reference number; ``0`` (and ``000``) is the exports' "no reference"."""
    value = clean(raw)
    if value is None or value.strip("0") == "":
        return None
    return value


def parse_line_item(raw: str | None) -> int | None:
    """A line item number (1, 2, ... ; "2.0" as spreadsheets write it); 0 is a placeholder."""
    value = clean(raw)
    if value is None:
        return None
    match = _LINE_ITEM.fullmatch(value)
    if match is None:
        raise BadValue(f"bad line item number {quoted(value)}")
    return int(match[1]) or None
