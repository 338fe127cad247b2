"""`manage.py generate_contracts --count N`: synthetic contracts (the work is in contracts.generating)."""

from __future__ import annotations

import argparse
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from contracts.generating import (
    DEFAULT_SEED,
    ContractsExist,
    ExistingContracts,
    GenerationSummary,
    contracts_generate,
)
from contracts.services import lift_statement_timeout


def _whole_number(minimum: int) -> Any:
    def parse(value: str) -> int:
        if not value.isdigit() or int(value) < minimum:
            raise argparse.ArgumentTypeError(f"expected a whole number of at least {minimum}, got {value!r}")
        return int(value)

    return parse


class Command(BaseCommand):
    help = (
        "Generate deterministic synthetic contracts with the real PhilGEPS names and distributions "
        "(the same --count and --seed always give the same rows)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--count", type=_whole_number(1), required=True, help="rows to generate")
        parser.add_argument(
            "--seed",
            type=_whole_number(0),
            default=DEFAULT_SEED,
            help=f"random seed (default {DEFAULT_SEED})",
        )
        existing = parser.add_mutually_exclusive_group()
        existing.add_argument(
            "--replace", action="store_true", help="delete every existing contract (and entity) first"
        )
        existing.add_argument("--append", action="store_true", help="add to the existing contracts")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args: Any, **options: Any) -> None:
        lift_statement_timeout()
        existing = ExistingContracts.REFUSE
        if options["replace"]:
            existing = ExistingContracts.REPLACE
        elif options["append"]:
            existing = ExistingContracts.APPEND
        with tqdm(
            total=options["count"], unit="rows", desc="generate", disable=options["no_progress"]
        ) as bar:
            try:
                summary = contracts_generate(
                    count=options["count"],
                    seed=options["seed"],
                    existing=existing,
                    on_progress=lambda done: bar.update(done - bar.n),
                    on_stage=bar.set_description,
                )
            except ContractsExist as error:
                raise CommandError(
                    f"{error}: pass --replace to delete them first, or --append to add to them"
                ) from error
        self._print_summary(summary)

    def _print_summary(self, summary: GenerationSummary) -> None:
        first, last = summary.reference_ids
        self.stdout.write(
            f"Generated: {summary.rows:,} contracts ({first} to {last})\n"
            f"Entities used: {summary.contractors:,} contractors, {summary.organizations:,} procuring "
            f"entities, {summary.areas:,} areas, {summary.business_categories:,} business categories\n"
            f"Elapsed: {summary.elapsed:.1f} s ({summary.rows_per_second:,.0f} rows/s)"
        )
        self.stdout.write(self.style.SUCCESS(f"Dataset version is now {summary.dataset_version}."))
