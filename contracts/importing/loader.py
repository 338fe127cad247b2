"""Stream a PhilGEPS CSV export into `Contract` rows, one batch (and one transaction) at a time.

The two jobs live beside this module: `parsing` turns rows into records (no database),
`writing` stores a batch (COPY and one upsert on PostgreSQL). Here they run side by side:
parsing processes (`pipeline`) parse blocks of the file while this one writes, so Python
parsing is no longer held to one core. Memory stays flat for a file of any size: at most one
batch being written, one being filled and a few blocks per parsing process in between.

A re-import of the same file writes nothing and leaves the dataset version (and every cached
result) alone. Within a file, a later row for the same reference replaces an earlier one
("superseded"). Each row ends up counted once: skipped (no awardee: not awarded), rejected
(awarded but unusable: the reason and CSV line number go to `on_reject` and the optional
rejects report), superseded, or written as created / updated / unchanged.
"""

from __future__ import annotations

import contextlib
import csv
import io
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

from django.conf import settings
from django.db import connection, transaction

from contracts.indexes import (
    INLINE,
    DroppedIndexes,
    build_deferred_after_commit,
    bulk_load_lock,
    bulk_load_pays,
    indexes_dropped,
    repair_dropped_indexes,
)
from contracts.models import Contract, DatasetVersion
from contracts.services import contracts_vacuum_analyze
from contracts.signals import dataset_changed_send

from .columns import MissingColumns
from .parsing import Rejection, UnreadableFile
from .pipeline import Chunk, ParserDied, parsed_in_children
from .writing import BatchWriter, batch_writer

logger = logging.getLogger(__name__)

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "ImportFailed",
    "ImportSummary",
    "MissingColumns",
    "Rejection",
    "contracts_import",
]

# Rows per transaction: measured on 1M rows, 2,000 to 20,000 differ by a few percent; larger
# batches hold more memory and make a failed batch cost more.
DEFAULT_BATCH_SIZE = 10_000

# After a load this large, vacuum and analyze at once rather than wait for autovacuum.
BULK_LOAD_ROWS = 50_000


class ImportFailed(Exception):
    """The file cannot be read (on); the batches written before stay written."""

    def __init__(self, message: str, summary: ImportSummary) -> None:
        super().__init__(message)
        self.summary = summary


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
    # Indexes still missing when it returned: the trigram index a bulk load left to a worker
    # (IMPORT_TRIGRAM_INDEX), being built CONCURRENTLY.
    indexes_pending: list[str] = field(default_factory=list)

    @property
    def imported(self) -> int:
        """Contracts this import created or changed."""
        return self.created + self.updated

    @property
    def rows_per_second(self) -> float:
        return self.rows_read / self.elapsed if self.elapsed > 0 else 0.0


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

    Raises MissingColumns or UnreadableFile before writing anything when the header lacks a
    required column or cannot be read, and ImportFailed when the file turns out unreadable
    part-way (the rows before stay imported). on_progress receives the number of bytes read so
    far, for a progress bar that needs no line count up front; rejects, when given, receives a
    CSV report of rejected rows.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    # What an earlier bulk import, killed, left dropped; outside a transaction the trigram
    # index is left to the build after this import (see `finish`).
    repair_dropped_indexes(defer=_defers_trigram_index())
    run = _ImportRun(batch_size=batch_size, on_reject=on_reject, on_progress=on_progress, rejects=rejects)
    run.size = _stream_size(stream)
    started = time.monotonic()
    try:
        with parsed_in_children(stream, encoding=encoding, prepare=run.writer.prepare) as (header, chunks):
            if rejects is not None:
                run.report = _RejectsReport(rejects, header)
            run.consume(chunks)
    finally:
        run.finish()
        run.summary.elapsed = time.monotonic() - started
    return run.summary


def _defers_trigram_index() -> bool:
    """Whether a bulk load leaves the trigram index to `build_deferred_indexes` (which needs
    the import's writes committed: not when the caller holds a transaction)."""
    return settings.IMPORT_TRIGRAM_INDEX != INLINE and not connection.in_atomic_block


def _stream_size(stream: IO[bytes]) -> int | None:
    """The stream's length in bytes, when it can tell (a pipe cannot)."""
    with contextlib.suppress(OSError, ValueError):
        here = stream.tell()
        size = stream.seek(0, io.SEEK_END)
        stream.seek(here)
        return size
    return None


class _ImportRun:
    """The state of one import: counts, the pending batch, the rejects report."""

    def __init__(
        self,
        *,
        batch_size: int,
        on_reject: Callable[[Rejection], None] | None,
        on_progress: Callable[[int], None] | None,
        rejects: IO[str] | None,
    ) -> None:
        self.batch_size = batch_size
        self.on_reject = on_reject
        self.on_progress = on_progress
        self.report: _RejectsReport | None = None
        self.summary = ImportSummary()
        self.batch: dict[str, Any] = {}  # reference_id -> the writer's prepared record
        self.writer: BatchWriter = batch_writer()
        self.size: int | None = None  # of the file in bytes, when known
        self.read_so_far = (0, 0)  # (rows, bytes) at the end of the last chunk, to estimate the file's rows
        self.bulk_decided = False
        self.dropped: DroppedIndexes | None = None
        self.bulk_lock = contextlib.ExitStack()  # held from the drop to the rebuild

    def consume(self, chunks: Iterator[Chunk]) -> None:
        summary = self.summary
        batch = self.batch
        batch_size = self.batch_size
        for chunk in chunks:
            summary.rows_read += chunk.rows
            summary.skipped += chunk.skipped
            for item in chunk.items:
                reference_id = item[0]
                if reference_id in batch:
                    summary.superseded += 1
                batch[reference_id] = item
                if len(batch) >= batch_size:
                    self._flush()
            for rejection in chunk.rejections:
                self._reject(rejection)
            if isinstance(chunk.failure, UnreadableFile | ParserDied):
                self._flush()  # the good rows before the damage still count
                raise ImportFailed(str(chunk.failure), summary) from chunk.failure
            if chunk.failure is not None:
                raise chunk.failure
            self.read_so_far = (summary.rows_read, chunk.position)
            if self.on_progress is not None:
                self.on_progress(chunk.position)
        self._flush()

    def _reject(self, rejection: Rejection) -> None:
        self.summary.rejected += 1
        if self.report is not None:
            self.report.add(rejection)
        if self.on_reject is not None:
            self.on_reject(rejection)

    def _flush(self) -> None:
        if self.batch and not self.bulk_decided:
            self.bulk_decided = True
            if connection.vendor == "postgresql" and bulk_load_pays(
                self._new_rows_estimate(), Contract.objects.count()
            ):
                self.bulk_lock.enter_context(bulk_load_lock())
                with transaction.atomic():
                    self.dropped = indexes_dropped(Contract)
        if self.batch:
            created, updated, unchanged = self.writer.write(list(self.batch.values()))
            self.summary.created += created
            self.summary.updated += updated
            self.summary.unchanged += unchanged
            self.batch.clear()

    def _new_rows_estimate(self) -> int:
        """New contracts the file will bring: its rows (by its size) times the first batch's share of new."""
        references = list(self.batch)
        new = len(references) - Contract.objects.filter(reference_id__in=references).count()
        rows, position = self.read_so_far
        if self.size is None or not rows or not position:
            return new
        return round(self.size * rows / position * new / len(references))

    def finish(self) -> None:
        """After the last row, or a failure: indexes back, the version bumped if data changed,
        fresh statistics after a large load."""
        started = time.monotonic()
        try:
            if self.dropped is not None:
                if connection.in_atomic_block:  # the caller's transaction holds the drop
                    self.dropped.rebuild()
                else:
                    self.dropped.rebuild_concurrently(defer=_defers_trigram_index())
                self.dropped = None
                logger.info("indexes and foreign keys rebuilt in %.1f s", time.monotonic() - started)
        finally:
            self.bulk_lock.close()
        # Bump even when the import stopped part-way: the batches committed so far have
        # already changed the data that cached results were computed from.
        if self.summary.imported:
            self.summary.dataset_version = DatasetVersion.bump()
            dataset_changed_send(self.summary.dataset_version)
        if self.summary.imported >= BULK_LOAD_ROWS:
            started = time.monotonic()
            contracts_vacuum_analyze()
            logger.info("VACUUM (ANALYZE) after the load in %.1f s", time.monotonic() - started)
        if _defers_trigram_index():
            # After the vacuum, which a concurrent build would wait for.
            self.summary.indexes_pending = build_deferred_after_commit()
