"""`manage.py import_contracts FILE.csv`: load a PhilGEPS export (the work is in contracts.importing)."""

from __future__ import annotations

import argparse
import codecs
import os
from contextlib import ExitStack
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from contracts.importing.columns import MissingColumns
from contracts.importing.loader import (
    DEFAULT_BATCH_SIZE,
    ImportFailed,
    ImportSummary,
    Rejection,
    contracts_import,
)
from contracts.importing.parsing import UnreadableFile
from contracts.services import lift_statement_timeout


def positive_int(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {value!r}")
    return int(value)


class Command(BaseCommand):
    help = (
        'Import a PhilGEPS "Bid Notice and Award Details" CSV export: skips unawarded rows, '
        "upserts on the award reference, reports rejected rows with their line numbers."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="the CSV export")
        parser.add_argument(
            "--batch-size",
            type=positive_int,
            default=DEFAULT_BATCH_SIZE,
            help=f"rows per transaction (default {DEFAULT_BATCH_SIZE})",
        )
        parser.add_argument(
            "--rejects", metavar="FILE.csv", help="also write the rejected rows, with reasons, here"
        )
        parser.add_argument(
            "--encoding", default="utf-8-sig", help="text encoding of the file (default UTF-8)"
        )
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args: Any, **options: Any) -> None:
        lift_statement_timeout()
        path = options["file"]
        try:
            codecs.lookup(options["encoding"])
        except LookupError as error:
            raise CommandError(f"unknown --encoding {options['encoding']!r}") from error
        try:
            size = os.path.getsize(path)
        except OSError as error:
            raise CommandError(f"cannot read {path}: {error.strerror}") from error
        with ExitStack() as stack:
            try:
                stream = stack.enter_context(open(path, "rb"))
                rejects = None
                if options["rejects"]:
                    rejects = stack.enter_context(open(options["rejects"], "w", newline="", encoding="utf-8"))
            except OSError as error:
                raise CommandError(f"cannot open {error.filename}: {error.strerror}") from error
            bar = stack.enter_context(
                tqdm(total=size, unit="B", unit_scale=True, desc="import", disable=options["no_progress"])
            )
            try:
                summary = contracts_import(
                    stream,
                    batch_size=options["batch_size"],
                    encoding=options["encoding"],
                    on_reject=self._print_rejection,
                    on_progress=lambda done: bar.update(done - bar.n),
                    rejects=rejects,
                )
            except (MissingColumns, UnreadableFile) as error:  # the header: nothing written
                raise CommandError(f"{path}: {error}") from error
            except ImportFailed as error:
                self._print_summary(error.summary)
                raise CommandError(f"{path}: {error}") from error
            bar.update(size - bar.n)
        self._print_summary(summary)

    def _print_rejection(self, rejection: Rejection) -> None:
        where = f"line {rejection.line}"
        if rejection.bid_reference:
            where += f" (bid reference {rejection.bid_reference})"
        # Let the progress bar step aside rather than be torn by the message.
        with tqdm.external_write_mode():
            self.stderr.write(f"{where}: rejected: {rejection.reason}")

    def _print_summary(self, summary: ImportSummary) -> None:
        self.stdout.write(
            f"Rows read: {summary.rows_read:,}\n"
            f"Imported: {summary.imported:,} (created {summary.created:,}, updated {summary.updated:,}; "
            f"unchanged {summary.unchanged:,}, superseded by a later row {summary.superseded:,})\n"
            f"Skipped (unawarded): {summary.skipped:,}\n"
            f"Rejected: {summary.rejected:,}\n"
            f"Elapsed: {summary.elapsed:.1f} s ({summary.rows_per_second:,.0f} rows/s)"
        )
        if summary.indexes_pending:
            builder = {"worker": "a worker builds them now, concurrently"}.get(
                settings.IMPORT_TRIGRAM_INDEX, "`manage.py repair_indexes` builds them"
            )
            self.stdout.write(
                f"Indexes still to build: {', '.join(summary.indexes_pending)} ({builder}; "
                "keyword search answers meanwhile)."
            )
        if summary.dataset_version is not None:
            self.stdout.write(self.style.SUCCESS(f"Dataset version is now {summary.dataset_version}."))
        else:
            self.stdout.write("No data changed; dataset version left as it was.")
