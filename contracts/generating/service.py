"""`contracts_generate`: fill the contract tables with deterministic synthetic data."""

from __future__ import annotations

import enum
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from django.db import transaction

from contracts.indexes import bulk_load_pays
from contracts.models import Contract, DatasetVersion

from ..services import contracts_vacuum_analyze
from ..signals import dataset_changed_send
from .sampling import plan_generation, sample_chunks
from .writing import ContractWriter, EntityIds, contracts_delete_all

DEFAULT_SEED = 42
CHUNK_SIZE = 50_000
# Imported awards carry PhilGEPS's numeric references; this prefix can never collide with them.
REFERENCE_PREFIX = "SYN-"


class ExistingContracts(enum.Enum):
    """What to do when the contract table is not empty."""

    REFUSE = "refuse"
    APPEND = "append"
    REPLACE = "replace"


class ContractsExist(Exception):
    """Generating would mix synthetic rows into existing data nobody asked to keep or drop."""


@dataclass(frozen=True)
class GenerationSummary:
    rows: int
    contractors: int
    organizations: int
    areas: int
    business_categories: int
    reference_ids: tuple[str, str]  # first and last
    elapsed: float
    dataset_version: int

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.elapsed if self.elapsed > 0 else 0.0


def reference_prefix(seed: int) -> str:
    """Per seed, so runs with different seeds can be appended to one another."""
    return f"{REFERENCE_PREFIX}{seed}-"


def _first_reference_number(prefix: str) -> int:
    """1, or one past the last row an earlier run with the same seed generated."""
    last = (
        Contract.objects.filter(reference_id__startswith=prefix)
        .order_by("-reference_id")
        .values_list("reference_id", flat=True)
        .first()
    )
    return int(last.removeprefix(prefix)) + 1 if last else 1


def contracts_generate(
    *,
    count: int,
    seed: int = DEFAULT_SEED,
    existing: ExistingContracts = ExistingContracts.REFUSE,
    on_progress: Callable[[int], None] | None = None,
    on_stage: Callable[[str], None] | None = None,
    chunk_size: int = CHUNK_SIZE,
) -> GenerationSummary:
    """Generate `count` contracts; the same count and seed always give the same rows.

    `on_progress` hears the rows written so far; `on_stage` the name of each slow step
    after the rows ("indexing", "analyzing").

    One transaction: readers see all the rows and the new dataset version, or neither.
    With APPEND, reference numbers continue after the last row of the same seed, and the
    random stream is seeded with that number too, so appended rows differ from earlier ones.
    """
    if count < 1:
        raise ValueError("count must be at least 1")
    if seed < 0:
        raise ValueError("seed must not be negative")
    started = time.monotonic()
    prefix = reference_prefix(seed)
    with transaction.atomic():
        if existing is ExistingContracts.REPLACE:
            contracts_delete_all()
        elif existing is ExistingContracts.REFUSE and Contract.objects.exists():
            raise ContractsExist("contracts already exist")
        first_number = _first_reference_number(prefix)
        rng = np.random.default_rng([seed, first_number])
        plan = plan_generation(count, rng)
        writer = ContractWriter(EntityIds.create(plan), prefix, first_number)
        rebuild_indexes = bulk_load_pays(count, Contract.objects.count())
        rows = writer.write(
            sample_chunks(plan, rng, chunk_size),
            rebuild_indexes=rebuild_indexes,
            on_progress=on_progress,
            on_stage=on_stage,
        )
        version = DatasetVersion.bump()
        dataset_changed_send(version)
    if on_stage:
        on_stage("analyzing")
    contracts_vacuum_analyze()
    return GenerationSummary(
        rows=rows,
        contractors=len(plan.contractors.names),
        organizations=len(plan.organizations.names),
        areas=len(plan.areas.names),
        business_categories=len(plan.categories.names),
        reference_ids=(f"{prefix}{first_number:09d}", f"{prefix}{first_number + rows - 1:09d}"),
        elapsed=time.monotonic() - started,
        dataset_version=version,
    )
