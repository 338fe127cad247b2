"""Writing parsed contracts: one batch, one transaction, counted as created / updated / unchanged.

On PostgreSQL a batch goes through COPY. A batch none of whose references is stored yet (a
fresh import, an append) is copied straight into the contract table: the cheapest write
there is. Any other batch is copied into a temporary staging table and upserted with one
statement that skips the rows the table already holds unchanged, so a re-import rewrites
(and bloats) nothing and says so in its counts; so is a batch whose straight copy met a
stored reference (the check is skipped while batches keep being all new; a batch that
repeats an earlier one's reference, or another import's, makes the copy fail and fall back).
Other databases (the SQLite demo) read the batch's stored contracts and `bulk_create` the
new or changed ones: slower, same results. Entity names become ids through
`entity_ids_for_names`, remembered across batches (bounded), so a name is looked up about
once per import. Each writer names its `prepare`: what the parsing processes turn a record
into before sending it (the fields of a `prepared.CopyItem` for COPY: the batch's COPY text is
then a join).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol

from django.db import IntegrityError, connection, transaction

from contracts.entities import ENTITIES, Entity
from contracts.models import Contract
from contracts.services import IN_LIST_MAX, entity_ids_for_names

from .parsing import ContractRecord
from .prepared import COPY_TEXT_COLUMNS, NULL, CopyItem, copy_item, same_record

# The contract columns a record fills, in ContractRecord's order with entities as ids. An
# upsert rewrites all of them but reference_id, its conflict target.
RECORD_FIELDS = ContractRecord._fields
_ENTITY_FIELDS = {entity.key for entity in ENTITIES}
COLUMNS = tuple(f"{field}_id" if field in _ENTITY_FIELDS else field for field in RECORD_FIELDS)
UPDATE_COLUMNS = COLUMNS[1:]
_ENTITY_POSITIONS = tuple((RECORD_FIELDS.index(entity.key), entity) for entity in ENTITIES)
# A `CopyItem`'s COPY line: its text columns, then the entity ids in ENTITIES order.
COPY_COLUMNS = (*COPY_TEXT_COLUMNS, *(entity.column for entity in ENTITIES))
_COPY_ENTITY_POSITIONS = tuple((CopyItem._fields.index(entity.key), entity) for entity in ENTITIES)
assert CopyItem._fields[1:5] == tuple(entity.key for entity in ENTITIES), "copy_text reads them in this order"

# Remembered name -> id pairs per entity; forgotten when this many, so memory stays bounded.
_KNOWN_IDS_MAX = 500_000
# Rows per INSERT on the ORM path: 14 parameters each stays under PostgreSQL's 65,535 per
# statement; Django lowers it further for SQLite.
_INSERT_ROWS = 2000


class BatchWriter(Protocol):
    # What the parsing process turns each record into before it crosses to the writer: a
    # module-level function (it is pickled), whose result starts with the reference_id.
    prepare: Callable[[ContractRecord], Sequence[Any]]

    def write(self, items: Sequence[Any]) -> tuple[int, int, int]:
        """Upsert one batch (prepared, unique reference_ids) in one transaction:
        (created, updated, unchanged)."""
        ...


def batch_writer() -> BatchWriter:
    """COPY on PostgreSQL, the ORM elsewhere."""
    return CopyBatchWriter() if connection.vendor == "postgresql" else OrmBatchWriter()


class _EntityIds:
    """Ids of entity names, created when missing, remembered between batches."""

    def __init__(self) -> None:
        self._known: dict[Entity, dict[str, int]] = {entity: {} for entity in ENTITIES}

    def lookups(
        self, rows: Sequence[Sequence[Any]], positions: Sequence[tuple[int, Entity]]
    ) -> list[tuple[int, dict[str, int]]]:
        """(position, name -> id) for each entity, knowing every name `rows` hold there."""
        for position, entity in positions:
            known = self._known[entity]
            missing = {r[position] for r in rows if r[position] is not None} - known.keys()
            if len(known) + len(missing) > _KNOWN_IDS_MAX:
                known.clear()
                missing = {r[position] for r in rows if r[position] is not None}
            if missing:
                known.update(entity_ids_for_names(entity.model, sorted(missing)))
        return [(position, self._known[entity]) for position, entity in positions]

    def rows(self, records: Sequence[ContractRecord]) -> Iterator[list[Any]]:
        """Each record as a row of COLUMNS values, entity names replaced by ids."""
        lookups = self.lookups(records, _ENTITY_POSITIONS)
        for record in records:
            row = list(record)
            for position, known in lookups:
                name = row[position]
                if name is not None:
                    row[position] = known[name]
            yield row

    def copy_text(self, items: Sequence[tuple[Any, ...]]) -> str:
        """The COPY text (COPY_COLUMNS) of a batch of items (the fields of `CopyItem`s)."""
        (_, contractors), (_, areas), (_, organizations), (_, categories) = self.lookups(
            items, _COPY_ENTITY_POSITIONS
        )
        return "".join(
            f"{text}\t{contractors[contractor]}\t{NULL if area is None else areas[area]}\t"
            f"{organizations[organization]}\t{NULL if category is None else categories[category]}\n"
            for _, contractor, area, organization, category, text in items
        )


class CopyBatchWriter:
    """PostgreSQL: COPY into a session-local staging table, then one upsert."""

    STAGING = "contract_import_batch"
    prepare = staticmethod(copy_item)

    def __init__(self) -> None:
        self._ids = _EntityIds()
        self._expect_new = False
        table = Contract._meta.db_table
        columns = ", ".join(COLUMNS)
        stored = ", ".join(f"c.{column}" for column in UPDATE_COLUMNS)
        staged = ", ".join(f"b.{column}" for column in UPDATE_COLUMNS)
        excluded = ", ".join(f"EXCLUDED.{column}" for column in UPDATE_COLUMNS)
        assignments = ", ".join(f"{column} = EXCLUDED.{column}" for column in UPDATE_COLUMNS)
        self._create = (
            # Same column types as the contract table, none of its constraints or indexes.
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {self.STAGING} AS "
            f"SELECT {columns} FROM {table} WITH NO DATA"
        )
        copy_columns = ", ".join(COPY_COLUMNS)
        self._copy = f"COPY {self.STAGING} ({copy_columns}) FROM STDIN"
        self._any_stored = f"SELECT EXISTS (SELECT 1 FROM {table} WHERE reference_id = ANY(%s))"
        self._copy_new = f"COPY {table} ({copy_columns}) FROM STDIN"
        # The join leaves out rows stored unchanged before anything is locked or written;
        # the ON CONFLICT ... WHERE repeats the test for a row another import wrote meanwhile.
        # LATERAL ... LIMIT 1 keeps the join a look-up per staged row in the reference_id
        # index: the staging table has no statistics, and the planner would otherwise hash
        # the whole contract table for every batch. xmax is 0 on a row version this
        # statement inserted, not on one it updated.
        self._upsert = (
            f"WITH written AS ("
            f"INSERT INTO {table} AS c ({columns}) "
            f"SELECT b.* FROM {self.STAGING} b LEFT JOIN LATERAL "
            f"(SELECT * FROM {table} s WHERE s.reference_id = b.reference_id LIMIT 1) c ON true "
            f"WHERE c.id IS NULL OR ({stored}) IS DISTINCT FROM ({staged}) "
            f"ON CONFLICT (reference_id) DO UPDATE SET {assignments} "
            f"WHERE ({stored}) IS DISTINCT FROM ({excluded}) "
            f"RETURNING (c.xmax = 0) AS created) "
            f"SELECT count(*) FILTER (WHERE created), count(*) FROM written"
        )

    def write(self, items: Sequence[tuple[Any, ...]]) -> tuple[int, int, int]:
        text = self._ids.copy_text(items)  # names resolved before COPY holds the connection
        with connection.cursor() as cursor:
            if not self._expect_new:
                cursor.execute(self._any_stored, [[item[0] for item in items]])
                self._expect_new = not cursor.fetchone()[0]
            if self._expect_new:  # after one all-new batch, assume the next is too: no check
                try:
                    with transaction.atomic(), connection.wrap_database_errors:
                        self._copy_text(cursor, self._copy_new, text)
                    return len(items), 0, 0
                except IntegrityError:  # a stored reference after all: check the batches again
                    self._expect_new = False
            with transaction.atomic():
                cursor.execute(self._create)
                cursor.execute(f"TRUNCATE {self.STAGING}")
                self._copy_text(cursor, self._copy, text)
                cursor.execute(self._upsert)
                created, written = cursor.fetchone()
        return created, written - created, len(items) - written

    @staticmethod
    def _copy_text(cursor: Any, statement: str, text: str) -> None:
        with cursor.copy(statement) as copy:
            copy.write(text)


class OrmBatchWriter:
    """Any database Django supports: read the batch's stored rows, write the new or changed."""

    prepare = staticmethod(same_record)

    def __init__(self) -> None:
        self._ids = _EntityIds()

    def write(self, records: Sequence[ContractRecord]) -> tuple[int, int, int]:
        with transaction.atomic():
            contracts = [Contract(**dict(zip(COLUMNS, row, strict=True))) for row in self._ids.rows(records)]
            compared = [Contract._meta.get_field(column).attname for column in UPDATE_COLUMNS]
            existing: dict[str, tuple[Any, ...]] = {}
            size = min(connection.features.max_query_params or IN_LIST_MAX, IN_LIST_MAX)
            references = [c.reference_id for c in contracts]
            for start in range(0, len(references), size):
                # No ORDER BY: the model's default ordering would only cost a sort.
                chunk = references[start : start + size]
                matches = Contract.objects.filter(reference_id__in=chunk).order_by()
                for reference_id, *stored in matches.values_list("reference_id", *compared):
                    existing[reference_id] = tuple(stored)
            changed = [
                c for c in contracts if existing.get(c.reference_id) != tuple(getattr(c, a) for a in compared)
            ]
            Contract.objects.bulk_create(
                changed,
                batch_size=_INSERT_ROWS,
                update_conflicts=True,
                unique_fields=["reference_id"],
                update_fields=[Contract._meta.get_field(column).name for column in UPDATE_COLUMNS],
            )
        updated = sum(1 for c in changed if c.reference_id in existing)
        return len(changed) - updated, updated, len(contracts) - len(changed)
