"""`manage.py repair_indexes`: build the indexes and foreign keys a killed bulk import left dropped."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from contracts.indexes import repair_dropped_indexes


class Command(BaseCommand):
    help = (
        "Build again any index or foreign key of the contract table that a bulk import dropped "
        "and did not live to rebuild (killed mid-load). One query when nothing is missing; "
        "`manage.py migrate` (so `make run` and the compose migrate service) and every import run it first."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        repaired = repair_dropped_indexes()
        if repaired:
            self.stdout.write(self.style.SUCCESS(f"Rebuilt {len(repaired)}: {', '.join(repaired)}"))
        elif options["verbosity"] > 1:
            self.stdout.write("Nothing to repair.")
