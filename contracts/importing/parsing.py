"""Reading a PhilGEPS CSV export: rows in, `ContractRecord`s (or reasons to reject) out.

No database here: `rows` streams the file with the csv module (one row held at a time, each
with the line it starts on), and `contract_record_from` turns one row's cells into the
contract it describes, entity names still as text. Writing is `writing`'s job.

Which contract a row is (reference_id): the award reference number, and for a line item
other than the first, ``<award reference>-<line item no>``. A row whose Line Item No is
1, 0 or missing keeps the bare award reference, so a single-line award is stored under its
own reference and the same row always gets the same id, whichever file or batch it comes in.

Values are kept as exported: an empty Area of Delivery stays empty (the procuring entity's
own Province and Region go to their own fields, never into the area), and no text is
rejected or cut for its length.
"""

from __future__ import annotations

import csv
import operator
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import IO, Any, NamedTuple

from .columns import ColumnMap, Field, MissingColumns
from .values import (
    CENTS,
    MAX_AMOUNT_DIGITS,
    BadValue,
    clean,
    parse_amount,
    parse_budget,
    parse_date,
    parse_line_item,
    parse_name,
    parse_reference,
    quoted,
)

# The csv module refuses a cell longer than 131,072 characters, and that stopped the whole
# import: a pasted item specification can be that long. A cell is taken up to 16 Mi
# characters (the parsers read on past a block for a row that long); anything longer is no
# real cell but a quote left open, and stops the import at its line as before. The limit is
# the csv module's, for the whole process: set where every reader of an export imports it.
MAX_CELL_CHARS = 16 * 1024 * 1024
csv.field_size_limit(MAX_CELL_CHARS)

# The unique btree index on reference_id holds at most ~2,700 bytes per entry; award
# references are short numbers, so anything near that long is not one.
MAX_REFERENCE_LENGTH = 500


class UnreadableFile(Exception):
    """The file stops being readable CSV text part-way (bad encoding, broken quoting)."""


def not_in_encoding(encoding: str, where: str, error: UnicodeError) -> str:
    """Why a file that is not in `encoding` stops, and what to do: Excel saves a CSV in the
    Windows code page unless told otherwise."""
    where = f" ({where})" if where else ""
    return (
        f"the file is not {encoding} text{where}: {error}; "
        "name its encoding with --encoding (a CSV saved by Excel is often cp1252)"
    )


@dataclass(frozen=True)
class Rejection:
    """An awarded row that could not be used, and why."""

    line: int  # the CSV line the row starts on (the header is line 1)
    reason: str
    bid_reference: str | None
    row: Sequence[str]


class ContractRecord(NamedTuple):
    """One usable row, with entities still as names (a tuple: built a million times per file)."""

    reference_id: str
    title: str
    notice_title: str
    contractor: str
    organization: str
    area: str | None
    business_category: str | None
    amount: Decimal
    award_date: date
    procurement_mode: str
    classification: str
    approved_budget: Decimal | None
    organization_province: str
    organization_region: str


def _parsed(
    values: dict[Field, str | None],
    field: Field,
    parse: Callable[[str | None], Any],
    errors: list[str],
    *,
    required: bool = False,
) -> Any:
    """The parsed cell, or None with the problem (if any) appended to errors."""
    raw = values[field]
    try:
        value = parse(raw)
    except BadValue as error:
        errors.append(f"{field.value.replace('_', ' ')}: {error}")
        return None
    if value is None and required:
        label = field.value.replace("_", " ")
        present = clean(raw)
        errors.append(f"no usable {label} ({quoted(present)})" if present else f"missing {label}")
    return value


def contract_record_from(values: dict[Field, str | None]) -> ContractRecord | None:
    """The contract a row describes; None for an unawarded row; BadValue naming every problem."""
    contractor = parse_name(values[Field.AWARDEE])
    if contractor is None:
        return None
    errors: list[str] = []
    award_reference = _parsed(values, Field.AWARD_REFERENCE, parse_reference, errors, required=True)
    line_item = _parsed(values, Field.LINE_ITEM, parse_line_item, errors)
    notice_title = clean(values[Field.NOTICE_TITLE])
    title = clean(values[Field.AWARD_TITLE]) or notice_title
    if title is None:
        errors.append("missing award title and notice title")
    organization = _parsed(values, Field.PROCURING_ENTITY, parse_name, errors, required=True)
    amount = _parsed(values, Field.CONTRACT_AMOUNT, parse_amount, errors, required=True)
    if amount is not None and amount < 0:
        errors.append(f"negative contract amount ({amount})")
    award_date = _parsed(values, Field.AWARD_DATE, parse_date, errors, required=True)
    approved_budget = _parsed(values, Field.APPROVED_BUDGET, parse_budget, errors)
    if award_reference is not None and len(award_reference) > MAX_REFERENCE_LENGTH:
        errors.append(f"award reference longer than {MAX_REFERENCE_LENGTH} characters: not a reference")
    if errors:
        raise BadValue("; ".join(errors))
    return ContractRecord(
        award_reference if line_item in (None, 1) else f"{award_reference}-{line_item}",
        title,
        notice_title or "",
        contractor,
        organization,
        parse_name(values[Field.AREA_OF_DELIVERY]),
        parse_name(values[Field.BUSINESS_CATEGORY]),
        amount,
        award_date,
        parse_name(values[Field.PROCUREMENT_MODE]) or "",
        parse_name(values[Field.CLASSIFICATION]) or "",
        approved_budget,
        parse_name(values[Field.PROVINCE]) or "",
        parse_name(values[Field.REGION]) or "",
    )


_ALL_FIELDS = tuple(Field)  # in the order RowParser unpacks them
# Parsed names, dates and line items keyed by their raw cell: a file repeats a few thousand
# of each a million times. Cleared when full, so memory stays bounded on any file.
_MEMO_MAX = 200_000
# A plain amount as the exports write it ("4718239.58"); other spellings take parse_amount.
_PLAIN_AMOUNT = re.compile(rf"\d{{1,{MAX_AMOUNT_DIGITS}}}(?:\.\d{{1,2}})?")


class RowParser:
    """`contract_record_from` for one file's column layout, fast enough for COPY.

    A row is read by position, and names, dates and line items come from memo tables; any
    cell the fast path does not recognise sends the whole row through
    `contract_record_from`, which gives the same record or names every problem.
    """

    def __init__(self, columns: ColumnMap) -> None:
        self.columns = columns
        self.width = columns.width

        def cells(*fields: Field) -> Callable[[list[str | None]], tuple[str | None, ...]]:
            # A field this file has no column for reads the None appended to each row.
            return operator.itemgetter(*(columns.positions.get(f, columns.width) for f in fields))

        self._name_cells = cells(
            Field.AWARDEE,
            Field.PROCURING_ENTITY,
            Field.AREA_OF_DELIVERY,
            Field.BUSINESS_CATEGORY,
            Field.PROCUREMENT_MODE,
            Field.CLASSIFICATION,
            Field.PROVINCE,
            Field.REGION,
        )
        self._other_cells = cells(
            Field.AWARD_REFERENCE,
            Field.LINE_ITEM,
            Field.AWARD_TITLE,
            Field.NOTICE_TITLE,
            Field.CONTRACT_AMOUNT,
            Field.AWARD_DATE,
            Field.APPROVED_BUDGET,
        )
        self._all_cells = cells(*_ALL_FIELDS)
        # A row is read as it is when the file has every field's column; else with a None after
        # its last cell, for the fields it lacks.
        self._padded = any(field not in columns.positions for field in _ALL_FIELDS)
        self._names: dict[str | None, str | None] = {}
        self._dates: dict[str | None, date | None] = {}
        self._line_items: dict[str | None, int | None] = {}

    def __call__(self, row: list[str]) -> ContractRecord | None:
        """The row's contract, None for an unawarded row; BadValue naming every problem."""
        if len(row) != self.width:
            raise BadValue(f"expected {self.width} fields, found {len(row)}")
        if len(self._names) > _MEMO_MAX:
            self._names.clear()
            self._dates.clear()
            self._line_items.clear()
        padded: list[str | None] = [*row, None] if self._padded else row  # type: ignore[assignment]
        names = self._names
        name_cells = self._name_cells(padded)
        try:
            parsed_names = list(map(names.__getitem__, name_cells))
        except KeyError:
            parsed_names = [
                names[c] if c in names else names.setdefault(c, parse_name(c)) for c in name_cells
            ]
        if parsed_names[0] is None:  # no awardee: not awarded
            return None
        try:  # not contextlib.suppress: its three Python calls cost ~1 us a row
            record = self._fast(self._other_cells(padded), parsed_names)
        except (ValueError, ArithmeticError, AttributeError, TypeError):  # BadValue is a ValueError
            record = None
        if record is None:  # something unusual: the thorough path, with its reasons
            record = contract_record_from(dict(zip(_ALL_FIELDS, self._all_cells(padded), strict=True)))
        return record

    def _fast(self, cells: tuple[str | None, ...], names: list[str | None]) -> ContractRecord | None:
        """The record when every cell is in its usual form, else None (or an exception)."""
        reference, line_item, award_title, notice_title, amount, award_date, budget = cells
        contractor, organization, area, category, mode, classification, province, region = names
        reference = reference.strip()  # type: ignore[union-attr]  # None: AttributeError, thorough path
        if not reference.strip("0") or len(reference) > MAX_REFERENCE_LENGTH or reference.upper() == "NULL":
            return None
        item = self._line_items.get(line_item, _UNSEEN)
        if item is _UNSEEN:
            item = self._line_items[line_item] = parse_line_item(line_item)
        notice = clean(notice_title)
        title = clean(award_title) or notice
        if title is None or organization is None or not _PLAIN_AMOUNT.fullmatch(amount):  # type: ignore[arg-type]
            return None
        day = self._dates.get(award_date)
        if day is None:
            day = self._dates[award_date] = parse_date(award_date)
            if day is None:
                return None
        if budget is None or budget == "NULL":
            approved_budget = None
        elif _PLAIN_AMOUNT.fullmatch(budget):
            approved_budget = Decimal(budget).quantize(CENTS) or None
        else:
            approved_budget = parse_budget(budget)
        return ContractRecord(
            reference if item is None or item == 1 else f"{reference}-{item}",
            title,
            notice or "",
            contractor,  # type: ignore[arg-type]
            organization,
            area,
            category,
            Decimal(amount).quantize(CENTS),  # type: ignore[arg-type]
            day,
            mode or "",
            classification or "",
            approved_budget,
            province or "",
            region or "",
        )


_UNSEEN = object()


class ParsedRow(NamedTuple):
    """One data row of the file: a record, None (unawarded), or the reason it was rejected."""

    record: ContractRecord | None
    rejection: Rejection | None


class ExportReader:
    """The rows of one export, parsed; `header` is known once the first row is read."""

    def __init__(self, text: IO[str], *, encoding: str) -> None:
        self._reader = csv.reader(text)
        self._encoding = encoding
        self.header: list[str] | None = None
        self.columns: ColumnMap | None = None
        self._parse: RowParser | None = None
        self._lines_before = 0  # physical lines of the file before `text` starts

    @classmethod
    def continued(cls, text: IO[str], *, encoding: str, parser: RowParser, first_line: int) -> ExportReader:
        """The data rows of a piece of the file that starts at a row on `first_line`, parsed
        by a `RowParser` kept from piece to piece (its memo tables warm)."""
        reader = cls(text, encoding=encoding)
        reader.columns = parser.columns
        reader._parse = parser
        reader._lines_before = first_line - 1
        return reader

    def read_header(self) -> list[str]:
        """Map the header row; MissingColumns when it lacks a required column or is absent."""
        header = self._next_row(line=1)
        if header is None:
            raise MissingColumns("the file is empty: no header row")
        self.columns = ColumnMap.from_header(header)
        self.header = header
        return header

    def __iter__(self) -> Iterator[ParsedRow]:
        """Every non-blank data row; raises UnreadableFile where the file breaks off."""
        columns = self.columns
        if columns is None:
            raise RuntimeError("read_header() first")
        reader = self._reader
        parse = self._parse or RowParser(columns)
        bid_reference_at = columns.positions.get(Field.BID_REFERENCE)
        # csv counts physical lines, and a quoted title may span several: a row starts on
        # the line after the one the previous row ended on.
        before = self._lines_before
        last_line = before + reader.line_num
        while True:
            row = self._next_row(line=last_line + 1)
            if row is None:
                return
            line, last_line = last_line + 1, before + reader.line_num
            if not row:  # csv yields [] for a blank line
                continue
            try:
                record = parse(row)
            except BadValue as error:
                cell = (
                    row[bid_reference_at]
                    if bid_reference_at is not None and bid_reference_at < len(row)
                    else None
                )
                yield ParsedRow(None, Rejection(line, str(error), parse_reference(cell), row))
            else:
                yield ParsedRow(record, None)

    def _next_row(self, *, line: int) -> list[str] | None:
        try:
            return next(self._reader, None)
        except UnicodeDecodeError as error:
            # Text is decoded a block ahead of the csv reader, so the line is approximate.
            raise UnreadableFile(
                not_in_encoding(self._encoding, f"at or after line {line}", error)
            ) from error
        except csv.Error as error:
            raise UnreadableFile(f"line {line}: unreadable CSV ({error})") from error
