"""Writing generated rows: COPY on PostgreSQL, `bulk_create` elsewhere (the SQLite demo).

COPY takes text built for a whole chunk at once; PostgreSQL parses and stores one chunk on
the other core while Python draws the next.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
from django.db import connection

from contracts.entities import BY_KEY, ENTITIES
from contracts.indexes import indexes_rebuilt_after
from contracts.models import Contract, NamedEntity
from contracts.services import entity_ids_for_names

from .sampling import CLASSIFICATIONS, FIRST_DAY, PROCUREMENT_MODES, YEAR_WEIGHTS, Chunk, Plan

CONTRACT_COLUMNS = (
    "reference_id",
    "title",
    "notice_title",
    "contractor_id",
    "organization_id",
    "area_id",
    "business_category_id",
    "amount",
    "award_date",
    "procurement_mode",
    "classification",
    "approved_budget",
    "organization_province",
    "organization_region",
)
_COPY_NULL = "\\N"
# Generated procuring entities have no province or region of their own: empty, as in an
# export without those columns.
_UNKNOWN = ""
# Every day an award can fall on (a Sunday, 31 December, moves on to 1 January).
_DAYS = (dt.date(max(YEAR_WEIGHTS) + 2, 1, 1) - FIRST_DAY).days


def is_postgresql() -> bool:
    """COPY and index rebuilds are PostgreSQL's; other backends (the SQLite demo) get bulk_create."""
    return connection.vendor == "postgresql"


def _objects(values: Sequence[object]) -> np.ndarray:
    array = np.empty(len(values), dtype=object)
    array[:] = list(values)
    return array


_MODES = _objects(PROCUREMENT_MODES)
_CLASSIFICATIONS = _objects(CLASSIFICATIONS)
_DATES = _objects([FIRST_DAY + dt.timedelta(days=d) for d in range(_DAYS)])
_DATE_TEXT = _objects([d.isoformat() for d in _DATES])


def entity_ids(model: type[NamedEntity], names: Sequence[str]) -> np.ndarray:
    """Database ids of `names` (in order), creating the entities that do not exist yet."""
    by_name = entity_ids_for_names(model, names)
    return np.array([by_name[name] for name in names], dtype=np.int64)


@dataclass(frozen=True)
class EntityIds:
    """Database ids, in the order of the plan's names."""

    contractors: np.ndarray
    organizations: np.ndarray
    areas: np.ndarray
    categories: np.ndarray

    @classmethod
    def create(cls, plan: Plan) -> EntityIds:
        return cls(
            contractors=entity_ids(BY_KEY["contractor"].model, plan.contractors.names),
            organizations=entity_ids(BY_KEY["organization"].model, plan.organizations.names),
            areas=entity_ids(BY_KEY["area"].model, plan.areas.names),
            categories=entity_ids(BY_KEY["business_category"].model, plan.categories.names),
        )


def contracts_delete_all() -> None:
    """Empty the contract tables (and the entities only contracts refer to)."""
    if is_postgresql():
        models = (Contract, *(entity.model for entity in ENTITIES))
        tables = ", ".join(connection.ops.quote_name(m._meta.db_table) for m in models)
        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {tables} RESTART IDENTITY")
        return
    Contract.objects.all().delete()
    for entity in ENTITIES:
        entity.model.objects.all().delete()


class ContractWriter:
    """Turns chunks into rows of the contract table."""

    def __init__(self, ids: EntityIds, reference_prefix: str, first_number: int) -> None:
        self.reference_prefix = reference_prefix
        self.first_number = first_number
        self._ids = ids
        # Entity columns are looked up in one fancy-indexing step per chunk; index -1 (no
        # area) picks the NULL appended at the end.
        self._contractor_text = _objects([str(i) for i in ids.contractors])
        self._organization_text = _objects([str(i) for i in ids.organizations])
        self._area_text = _objects([*(str(i) for i in ids.areas), _COPY_NULL])
        self._category_text = _objects([str(i) for i in ids.categories])

    def reference_ids(self, chunk: Chunk) -> list[str]:
        first = self.first_number + chunk.start
        return [f"{self.reference_prefix}{n:09d}" for n in range(first, first + len(chunk))]

    def write(
        self,
        chunks: Iterable[Chunk],
        *,
        rebuild_indexes: bool = False,
        on_progress: Callable[[int], None] | None = None,
        on_stage: Callable[[str], None] | None = None,
    ) -> int:
        """Insert every chunk's rows; `on_progress` hears the running total after each chunk.

        With `rebuild_indexes` (PostgreSQL only), the contract table's indexes are dropped
        before and built again after the rows (`on_stage` hears "indexing" then): right
        when the table starts empty.
        """
        if not is_postgresql():
            return self._write_by_bulk_create(chunks, on_progress)
        if not rebuild_indexes:
            return self._write_by_copy(chunks, on_progress)
        with indexes_rebuilt_after(Contract):
            written = self._write_by_copy(chunks, on_progress)
            if on_stage:
                on_stage("indexing")
        return written

    def _write_by_copy(self, chunks: Iterable[Chunk], on_progress: Callable[[int], None] | None) -> int:
        written = 0
        columns = ", ".join(CONTRACT_COLUMNS)
        with (
            connection.cursor() as cursor,
            cursor.copy(f"COPY {Contract._meta.db_table} ({columns}) FROM STDIN") as copy,
        ):
            for chunk in chunks:
                copy.write(self.copy_text(chunk))
                written += len(chunk)
                if on_progress:
                    on_progress(written)
        return written

    def _write_by_bulk_create(
        self, chunks: Iterable[Chunk], on_progress: Callable[[int], None] | None
    ) -> int:
        written = 0
        for chunk in chunks:
            Contract.objects.bulk_create(self.contracts(chunk), batch_size=2000)
            written += len(chunk)
            if on_progress:
                on_progress(written)
        return written

    def copy_text(self, chunk: Chunk) -> str:
        """The chunk as COPY text (no value needs escaping: see vocabulary)."""
        columns = (
            self.reference_ids(chunk),
            chunk.titles,
            chunk.notice_titles,
            self._contractor_text[chunk.contractor].tolist(),
            self._organization_text[chunk.organization].tolist(),
            self._area_text[chunk.area].tolist(),
            self._category_text[chunk.category].tolist(),
            [f"{a:.2f}" for a in chunk.amount.tolist()],
            _DATE_TEXT[chunk.award_day].tolist(),
            _MODES[chunk.procurement_mode].tolist(),
            _CLASSIFICATIONS[chunk.classification].tolist(),
            [_COPY_NULL if b != b else f"{b:.2f}" for b in chunk.approved_budget.tolist()],  # NaN: no budget
            [_UNKNOWN] * len(chunk),  # organization_province
            [_UNKNOWN] * len(chunk),  # organization_region
        )
        return "\n".join(map("\t".join, zip(*columns, strict=True))) + "\n"

    def contracts(self, chunk: Chunk) -> list[Contract]:
        """The chunk as unsaved model instances, for `bulk_create`."""
        area_ids = np.append(self._ids.areas, 0).astype(object)
        area_ids[-1] = None
        columns = {
            "reference_id": self.reference_ids(chunk),
            "title": chunk.titles,
            "notice_title": chunk.notice_titles,
            "contractor_id": self._ids.contractors[chunk.contractor].tolist(),
            "organization_id": self._ids.organizations[chunk.organization].tolist(),
            "area_id": area_ids[chunk.area].tolist(),
            "business_category_id": self._ids.categories[chunk.category].tolist(),
            "amount": [Decimal(f"{a:.2f}") for a in chunk.amount.tolist()],
            "award_date": _DATES[chunk.award_day].tolist(),
            "procurement_mode": _MODES[chunk.procurement_mode].tolist(),
            "classification": _CLASSIFICATIONS[chunk.classification].tolist(),
            "approved_budget": [
                None if b != b else Decimal(f"{b:.2f}") for b in chunk.approved_budget.tolist()
            ],
        }
        fields = list(columns)
        return [
            Contract(**dict(zip(fields, row, strict=True))) for row in zip(*columns.values(), strict=True)
        ]
