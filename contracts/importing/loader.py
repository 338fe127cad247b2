"""Stream a PhilGEPS CSV export into `Contract` rows, one batch (and one transaction) at a time.

Memory stays flat for a file of any size: rows are read with the csv module from a text
stream and at most one batch is held. For each batch the repeated names are resolved with
`entity_ids_for_names`, the batch's existing contracts are read, and only new or changed
contracts are written with an upsert on reference_id, so a re-import of the same file writes
nothing and leaves the dataset version (and every cached result) alone.

Which contract a row is (reference_id): the award reference number, and for a line item
other than the first, ``<award reference>-<line item no>``. A row whose Line Item No is
1, 0 or missing keeps the bare award reference, so a single-line award is stored under its
own reference and the same row always gets the same id, whichever file or batch it comes
in. Within a file, a later row for the same reference replaces an earlier one ("superseded").

Each row ends up counted once: skipped (no awardee: not awarded), rejected (awarded but
unusable: the reason and CSV line number go to `on_reject` and the optional rejects
report), superseded, or written as created / updated / unchanged.
"""

from __future__ import annotations

import contextlib
import csv
import io
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import IO, Any

from django.db import connection, transaction

from contracts.models import Area, BusinessCategory, Contract, Contractor, DatasetVersion, Organization
from contracts.services import IN_LIST_MAX, contracts_vacuum_analyze, entity_ids_for_names

from .columns import ColumnMap, Field, MissingColumns
from .values import (
    BadValue,
    clean,
    parse_amount,
    parse_budget,
    parse_date,
    parse_line_item,
    parse_name,
    parse_reference,
)

DEFAULT_BATCH_SIZE = 5000
# Rows per INSERT: 12 parameters each stays under PostgreSQL's 65535 per statement (which
# binds on the server when server-side binding is on); Django lowers it further for SQLite.
_INSERT_ROWS = 2000
# Progress is also reported between batches: a stretch of unawarded rows fills no batch.
_PROGRESS_EVERY = 1000

# The fields an upsert rewrites; reference_id is the conflict target.
UPDATE_FIELDS = [
    "title",
    "notice_title",
    "contractor",
    "organization",
    "area",
    "business_category",
    "amount",
    "award_date",
    "procurement_mode",
    "classification",
    "approved_budget",
]
_COMPARED = [Contract._meta.get_field(name).attname for name in UPDATE_FIELDS]


# After a load this large, vacuum and analyze at once rather than wait for autovacuum.
BULK_LOAD_ROWS = 50_000


class ImportFailed(Exception):
    """The file cannot be read (on); the batches written before stay written."""

    def __init__(self, message: str, summary: ImportSummary) -> None:
        super().__init__(message)
        self.summary = summary


@dataclass(frozen=True)
class Rejection:
    """An awarded row that could not be used, and why."""

    line: int  # the CSV line the row starts on (the header is line 1)
    reason: str
    bid_reference: str | None
    row: Sequence[str]


@dataclass(frozen=True)
class ContractRecord:
    """One usable row, with entities still as names."""

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


@dataclass
class ImportSummary:
    """What an import did; every row read lands in exactly one of the counts below it."""

    rows_read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    superseded: int = 0
    skipped: int = 0
    rejected: int = 0
    elapsed: float = 0.0
    dataset_version: int | None = None  # set when the import changed data

    @property
    def imported(self) -> int:
        """Contracts this import created or changed."""
        return self.created + self.updated

    @property
    def rows_per_second(self) -> float:
        return self.rows_read / self.elapsed if self.elapsed > 0 else 0.0


def _parsed(
    values: dict[Field, str | None],
    field: Field,
    parse: Callable[[str | None], Any],
    errors: list[str],
    *,
    required: bool = False,
) -> Any:
    """The parsed cell, or None with the problem (if any) appended to errors."""
    label = field.value.replace("_", " ")
    raw = values[field]
    try:
        value = parse(raw)
    except BadValue as error:
        errors.append(f"{label}: {error}")
        return None
    if value is None and required:
        present = clean(raw)
        errors.append(f"no usable {label} ({present!r})" if present else f"missing {label}")
    return value


def contract_record_from(values: dict[Field, str | None]) -> ContractRecord | None:
    """The contract a row describes; None for an unawarded row; BadValue naming every problem."""
    contractor = parse_name(values[Field.AWARDEE])
    if contractor is None:
        return None
    errors: list[str] = []
    award_reference = _parsed(values, Field.AWARD_REFERENCE, parse_reference, errors, required=True)
    line_item = _parsed(values, Field.LINE_ITEM, parse_line_item, errors)
    title = clean(values[Field.AWARD_TITLE]) or clean(values[Field.NOTICE_TITLE])
    if title is None:
        errors.append("missing award title and notice title")
    organization = _parsed(values, Field.PROCURING_ENTITY, parse_name, errors, required=True)
    amount = _parsed(values, Field.CONTRACT_AMOUNT, parse_amount, errors, required=True)
    if amount is not None and amount < 0:
        errors.append(f"negative contract amount ({amount})")
    award_date = _parsed(values, Field.AWARD_DATE, parse_date, errors, required=True)
    approved_budget = _parsed(values, Field.APPROVED_BUDGET, parse_budget, errors)
    # Older rows often leave Area of Delivery empty; the procuring entity's province or
    # region is the best stand-in the row offers.
    area = parse_name(values[Field.AREA_OF_DELIVERY]) or parse_name(values[Field.PROVINCE])
    area = area or parse_name(values[Field.REGION])
    business_category = parse_name(values[Field.BUSINESS_CATEGORY])
    procurement_mode = parse_name(values[Field.PROCUREMENT_MODE]) or ""
    classification = parse_name(values[Field.CLASSIFICATION]) or ""

    if errors:
        raise BadValue("; ".join(errors))
    record = ContractRecord(
        reference_id=award_reference if line_item in (None, 1) else f"{award_reference}-{line_item}",
        title=title,
        notice_title=clean(values[Field.NOTICE_TITLE]) or "",
        contractor=contractor,
        organization=organization,
        area=area,
        business_category=business_category,
        amount=amount,
        award_date=award_date,
        procurement_mode=procurement_mode,
        classification=classification,
        approved_budget=approved_budget,
    )
    if too_long := _too_long(record):
        raise BadValue("; ".join(too_long))
    return record


# Text columns with a length limit in the database; PostgreSQL would fail the whole batch.
_LENGTH_LIMITS = (
    ("reference_id", Contract, "reference_id"),
    ("contractor", Contractor, "name"),
    ("organization", Organization, "name"),
    ("area", Area, "name"),
    ("business_category", BusinessCategory, "name"),
    ("procurement_mode", Contract, "procurement_mode"),
    ("classification", Contract, "classification"),
)


def _too_long(record: ContractRecord) -> list[str]:
    problems = []
    for attr, model, field in _LENGTH_LIMITS:
        value = getattr(record, attr)
        limit = model._meta.get_field(field).max_length
        if value is not None and len(value) > limit:
            problems.append(f"{attr.replace('_', ' ')} longer than {limit} characters")
    return problems


def _chunks(items: Sequence[Any]) -> Iterator[Sequence[Any]]:
    """Slices that fit in one IN (...) list (see IN_LIST_MAX)."""
    size = min(connection.features.max_query_params or IN_LIST_MAX, IN_LIST_MAX)
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _write_batch(records: Sequence[ContractRecord]) -> tuple[int, int, int]:
    """Upsert one batch in one transaction; returns (created, updated, unchanged)."""
    with transaction.atomic():
        ids = {
            model: entity_ids_for_names(model, (getattr(r, attr) for r in records))
            for model, attr in (
                (Contractor, "contractor"),
                (Organization, "organization"),
                (Area, "area"),
                (BusinessCategory, "business_category"),
            )
        }
        contracts = [
            Contract(
                reference_id=r.reference_id,
                title=r.title,
                notice_title=r.notice_title,
                contractor_id=ids[Contractor][r.contractor],
                organization_id=ids[Organization][r.organization],
                area_id=ids[Area].get(r.area),
                business_category_id=ids[BusinessCategory].get(r.business_category),
                amount=r.amount,
                award_date=r.award_date,
                procurement_mode=r.procurement_mode,
                classification=r.classification,
                approved_budget=r.approved_budget,
            )
            for r in records
        ]
        # Read before writing: an upsert cannot tell new rows from changed ones, and skipping
        # identical rows keeps a re-import from rewriting (and bloating) millions of rows.
        existing: dict[str, tuple[Any, ...]] = {}
        for chunk in _chunks([c.reference_id for c in contracts]):
            # No ORDER BY: with the model's default ordering PostgreSQL walks the date index.
            matches = Contract.objects.filter(reference_id__in=chunk).order_by()
            for reference_id, *stored in matches.values_list("reference_id", *_COMPARED):
                existing[reference_id] = tuple(stored)
        changed = [
            c for c in contracts if existing.get(c.reference_id) != tuple(getattr(c, a) for a in _COMPARED)
        ]
        Contract.objects.bulk_create(
            changed,
            batch_size=_INSERT_ROWS,
            update_conflicts=True,
            unique_fields=["reference_id"],
            update_fields=UPDATE_FIELDS,
        )
    updated = sum(1 for c in changed if c.reference_id in existing)
    return len(changed) - updated, updated, len(contracts) - len(changed)


class _RejectsReport:
    """The rejected rows as CSV: line, reason, then the row as it was, under the file's own header."""

    def __init__(self, out: IO[str], header: Sequence[str]) -> None:
        self._writer = csv.writer(out)
        self._writer.writerow(["line", "reason", *header])

    def add(self, rejection: Rejection) -> None:
        self._writer.writerow([rejection.line, rejection.reason, *rejection.row])


def contracts_import(
    stream: IO[bytes],
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    encoding: str = "utf-8-sig",
    on_reject: Callable[[Rejection], None] | None = None,
    on_progress: Callable[[int], None] | None = None,
    rejects: IO[str] | None = None,
) -> ImportSummary:
    """Import a PhilGEPS export read from a binary stream; see the module docstring.

    Raises MissingColumns before writing anything when the header lacks a required column,
    and ImportFailed when the file turns out unreadable part-way (the rows before stay
    imported). on_progress receives the number of bytes read so far, for a progress bar that
    needs no line count up front; rejects, when given, receives a CSV report of rejected rows.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    run = _ImportRun(
        batch_size=batch_size,
        encoding=encoding,
        on_reject=on_reject,
        on_progress=on_progress,
        rejects=rejects,
    )
    return run.run(stream)


class _ImportRun:
    """The state of one import: counts, the pending batch, the rejects report."""

    def __init__(
        self,
        *,
        batch_size: int,
        encoding: str,
        on_reject: Callable[[Rejection], None] | None,
        on_progress: Callable[[int], None] | None,
        rejects: IO[str] | None,
    ) -> None:
        self.batch_size = batch_size
        self.encoding = encoding
        self.on_reject = on_reject
        self.on_progress = on_progress
        self.rejects = rejects
        self.report: _RejectsReport | None = None
        self.summary = ImportSummary()
        self.batch: dict[str, ContractRecord] = {}

    def run(self, stream: IO[bytes]) -> ImportSummary:
        started = time.monotonic()
        text = io.TextIOWrapper(stream, encoding=self.encoding, newline="")
        try:
            self._read(csv.reader(text), stream)
        finally:
            text.detach()  # the caller owns the stream
            # Bump even when the import stopped part-way: the batches committed so far have
            # already changed the data that cached results were computed from.
            if self.summary.imported:
                self.summary.dataset_version = DatasetVersion.bump()
            if self.summary.imported >= BULK_LOAD_ROWS:
                contracts_vacuum_analyze()
            self.summary.elapsed = time.monotonic() - started
        return self.summary

    def _read(self, reader: Any, stream: IO[bytes]) -> None:  # reader: a csv.reader
        header = self._next_row(reader, line=1)
        if header is None:
            raise MissingColumns("the file is empty: no header row")
        columns = ColumnMap.from_header(header)
        if self.rejects is not None:
            self.report = _RejectsReport(self.rejects, header)
        # csv counts physical lines, and a quoted title may span several: a row starts on
        # the line after the one the previous row ended on.
        last_line = reader.line_num
        while True:
            try:
                row = self._next_row(reader, line=last_line + 1)
            except ImportFailed:
                self._flush(stream)  # the good rows before the damage still count
                raise
            if row is None:
                break
            line, last_line = last_line + 1, reader.line_num
            if not row:  # csv yields [] for a blank line
                continue
            self._take(line, row, columns)
            if len(self.batch) >= self.batch_size:
                self._flush(stream)
            elif self.summary.rows_read % _PROGRESS_EVERY == 0:
                self._report_progress(stream)
        self._flush(stream)

    def _next_row(self, reader: Any, *, line: int) -> list[str] | None:
        try:
            return next(reader, None)
        except UnicodeDecodeError as error:
            # Text is decoded a block ahead of the csv reader, so the line is approximate.
            raise ImportFailed(
                f"the file is not {self.encoding} text (at or after line {line}): {error}", self.summary
            ) from error
        except csv.Error as error:
            raise ImportFailed(f"line {line}: unreadable CSV ({error})", self.summary) from error

    def _take(self, line: int, row: list[str], columns: ColumnMap) -> None:
        self.summary.rows_read += 1
        values = columns.values(row)
        try:
            if len(row) != columns.width:
                raise BadValue(f"expected {columns.width} fields, found {len(row)}")
            record = contract_record_from(values)
        except BadValue as error:
            self._reject(Rejection(line, str(error), parse_reference(values[Field.BID_REFERENCE]), row))
            return
        if record is None:
            self.summary.skipped += 1
            return
        if record.reference_id in self.batch:
            self.summary.superseded += 1
        self.batch[record.reference_id] = record

    def _reject(self, rejection: Rejection) -> None:
        self.summary.rejected += 1
        if self.report is not None:
            self.report.add(rejection)
        if self.on_reject is not None:
            self.on_reject(rejection)

    def _flush(self, stream: IO[bytes]) -> None:
        if self.batch:
            created, updated, unchanged = _write_batch(list(self.batch.values()))
            self.summary.created += created
            self.summary.updated += updated
            self.summary.unchanged += unchanged
            self.batch.clear()
        self._report_progress(stream)

    def _report_progress(self, stream: IO[bytes]) -> None:
        if self.on_progress is not None:
            # A pipe cannot tell how far it is; there is then no byte count to report.
            with contextlib.suppress(OSError, ValueError):
                self.on_progress(stream.tell())
