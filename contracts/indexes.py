"""Dropping a table's secondary indexes and foreign keys for a bulk load, and building them again.

Measured on 1M rows (2 cores): COPY with every index of the contract table in place took
over three minutes, the trigram index and row-by-row foreign key checks (~40 s) being most
of it; building the same indexes once afterwards takes well under a minute. The primary key
and unique constraints stay (cheap to maintain, upserts need them, others may depend on
them). PostgreSQL only.

What was dropped is also written to `DroppedIndex`, in the dropping transaction, and deleted
in the transaction that builds it again: a load killed in between leaves the record, and
`repair_dropped_indexes` (run at the start of every import and by `manage.py repair_indexes`
at start-up) builds whatever it lists that is still missing. A bulk load holds the advisory
lock `BULK_LOAD_LOCK` from its drop to its rebuild, so a repair never builds indexes under a
load that is still running; a killed load's session, and its lock, end with it.

The trigram (GIN) index is the slowest to build (~25 s per million titles, on one core) and
serves no query an import's caller waits for (the keyword filter ORs the notice title, which
has no such index, so PostgreSQL scans either way; the columnar engine answers keyword
chips). So by default (`IMPORT_TRIGRAM_INDEX = "worker"`) a bulk import returns once the
btrees and foreign keys are back and leaves it recorded: `build_deferred_indexes` builds it
with CREATE INDEX CONCURRENTLY (reads and writes go on), in a worker of the exports queue
after the commit (no interactive worker process is held for it).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, connections, models, transaction
from django.db.backends.utils import CursorWrapper

from .models import DroppedIndex

logger = logging.getLogger(__name__)

# Advisory lock key of a bulk load in progress (any 64-bit number no other code uses).
BULK_LOAD_LOCK = 0x5048_4C47_4550_5301
# Sorts for the btree builds fit in memory; a GIN build flushes less often with more. No
# statement timeout: a build canceled part-way only leaves the index missing for longer.
_MAINTENANCE_SETTINGS = "SET LOCAL maintenance_work_mem = '256MB'; SET LOCAL statement_timeout = 0"
_GIN_SETTINGS = "SET LOCAL maintenance_work_mem = '1GB'; SET LOCAL statement_timeout = 0"
_BTREE_SETTINGS = f"{_MAINTENANCE_SETTINGS}; SET LOCAL max_parallel_maintenance_workers = 0"
# How often a bulk load waiting for BULK_LOAD_LOCK asks again (see `bulk_load_lock`).
_LOCK_POLL_SECONDS = 0.5
# IMPORT_TRIGRAM_INDEX besides the default "worker": who builds the trigram index a bulk
# import dropped (see the module docstring).
INLINE, LATER = "inline", "later"


def deferrable(definition: str) -> bool:
    """Whether an index is one a bulk import leaves to `build_deferred_indexes` (trigram GIN)."""
    return " USING gin " in definition


def bulk_load_pays(new_rows: int, existing_rows: int) -> bool:
    """Whether dropping the indexes for a load of `new_rows` and rebuilding them after pays.

    Rebuilding costs in proportion to the whole table, maintaining the indexes in proportion
    to the new rows but many times more per row: the rebuild wins from about as many new rows
    as the table holds.
    """
    return new_rows >= existing_rows


@dataclass(frozen=True)
class DroppedIndexes:
    """What `indexes_dropped` removed from a table, as the statements that create it again."""

    table: str
    indexes: list[tuple[str, str]]  # (name, CREATE INDEX ...)
    foreign_keys: list[tuple[str, str]]  # (name, FOREIGN KEY ... REFERENCES ...)

    def rebuild(self) -> None:
        """Create every dropped index and foreign key again, one after another, in the
        caller's transaction (the one that dropped them, or any other)."""
        with connection.cursor() as cursor:
            cursor.execute(_MAINTENANCE_SETTINGS)
            _build(cursor, self.table, self.foreign_keys, DroppedIndex.Kind.FOREIGN_KEY)
            _build(cursor, self.table, self.indexes, DroppedIndex.Kind.INDEX)

    def rebuild_concurrently(self, *, defer: bool = False) -> list[str]:
        """Create them again on two connections at once, outside any transaction (the drop
        must be committed): the trigram (GIN) builds on one, the btrees on the other. With
        `defer`, the trigram index is left recorded for `build_deferred_indexes` and the
        btrees build alone, with PostgreSQL's parallel workers (1M rows: 4.4 s, against
        6.6 s on one core and 15 s beside the GIN). The names left, or [].

        The GIN build is the longest (~15 s per million titles, one core whatever the
        settings): it gets 1 GB of maintenance_work_mem (2 s less than 256 MB) and the btree
        builds no parallel workers, so that they keep to the other core. The foreign keys come
        first, on their own: validating one locks the table against index builds (and an
        index build against it), and each takes a second or so.
        """
        if connection.in_atomic_block:
            raise RuntimeError("rebuild_concurrently() needs the drop committed; use rebuild()")
        _in_transaction(self.table, self.foreign_keys, DroppedIndex.Kind.FOREIGN_KEY, _MAINTENANCE_SETTINGS)
        gin = [(name, sql) for name, sql in self.indexes if deferrable(sql)]
        others = [(name, sql) for name, sql in self.indexes if not deferrable(sql)]
        if defer:
            _in_transaction(self.table, others, DroppedIndex.Kind.INDEX, _MAINTENANCE_SETTINGS)
            return [name for name, _ in gin]
        lanes = [(lane, kind) for lane, kind in ((gin, _GIN_SETTINGS), (others, _BTREE_SETTINGS)) if lane]
        failures: list[BaseException] = []

        def build(lane: list[tuple[str, str]], settings: str) -> None:
            try:
                _in_transaction(self.table, lane, DroppedIndex.Kind.INDEX, settings)
            except BaseException as error:  # raised again on the calling thread
                failures.append(error)
            finally:
                connections.close_all()  # this thread's own connection

        threads = [threading.Thread(target=build, args=lane, name="index-build") for lane in lanes[1:]]
        for thread in threads:
            thread.start()
        try:
            if lanes:
                first, settings = lanes[0]
                _in_transaction(self.table, first, DroppedIndex.Kind.INDEX, settings)
        finally:
            for thread in threads:
                thread.join()
        if failures:
            raise failures[0]
        return []


def _in_transaction(table: str, statements: Sequence[tuple[str, str]], kind: str, settings: str) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(settings)
        _build(cursor, table, statements, kind)


def _build(cursor: CursorWrapper, table: str, statements: Sequence[tuple[str, str]], kind: str) -> None:
    """Create each index or foreign key that does not exist, and forget its record."""
    quoted = connection.ops.quote_name(table)
    for name, definition in statements:
        if kind == DroppedIndex.Kind.INDEX:
            if not _valid_index(cursor, name):
                cursor.execute(definition)
        else:
            cursor.execute(
                "SELECT EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = %s::regclass AND conname = %s)",
                [table, name],
            )
            if not cursor.fetchone()[0]:
                constraint = connection.ops.quote_name(name)
                cursor.execute(f"ALTER TABLE {quoted} ADD CONSTRAINT {constraint} {definition}")
    DroppedIndex.objects.filter(table=table, name__in=[name for name, _ in statements]).delete()


def _valid_index(cursor: CursorWrapper, name: str, *, concurrently: bool = False) -> bool:
    """Whether the index exists and is valid; an invalid one (the remains of a CREATE INDEX
    CONCURRENTLY that was cancelled or killed) is dropped, to be built again."""
    quoted = connection.ops.quote_name(name)
    cursor.execute("SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass(%s)", [quoted])
    row = cursor.fetchone()
    if row is not None and not row[0]:
        cursor.execute(f"DROP INDEX {'CONCURRENTLY ' if concurrently else ''}{quoted}")
    return row is not None and row[0]


def indexes_dropped(model: type[models.Model]) -> DroppedIndexes:
    """Drop the table's plain indexes (not those behind a constraint) and outgoing foreign keys,
    recording each in `DroppedIndex`; call inside a transaction."""
    table = model._meta.db_table
    quoted = connection.ops.quote_name(table)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT i.relname, pg_get_indexdef(i.oid) "
            "FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
            "WHERE x.indrelid = %s::regclass AND NOT EXISTS "
            "(SELECT 1 FROM pg_constraint c WHERE c.conrelid = x.indrelid AND c.conindid = x.indexrelid)",
            [table],
        )
        indexes = cursor.fetchall()
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass "
            "AND contype = 'f'",
            [table],
        )
        foreign_keys = cursor.fetchall()
        kinds = ((DroppedIndex.Kind.INDEX, indexes), (DroppedIndex.Kind.FOREIGN_KEY, foreign_keys))
        DroppedIndex.objects.bulk_create(
            [
                DroppedIndex(table=table, name=name, kind=kind, definition=definition)
                for kind, dropped in kinds
                for name, definition in dropped
            ],
            update_conflicts=True,
            unique_fields=["table", "name"],
            update_fields=["kind", "definition"],
        )
        for name, _ in foreign_keys:
            cursor.execute(f"ALTER TABLE {quoted} DROP CONSTRAINT {connection.ops.quote_name(name)}")
        for name, _ in indexes:
            cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
    return DroppedIndexes(table, indexes, foreign_keys)


@contextmanager
def indexes_rebuilt_after(model: type[models.Model]) -> Iterator[None]:
    """Drop the table's secondary indexes and foreign keys now, recreate them on exit.

    Inside the caller's transaction: on failure the drops roll back too.
    """
    dropped = indexes_dropped(model)
    yield
    dropped.rebuild()


@contextmanager
def bulk_load_lock() -> Iterator[None]:
    """Hold `BULK_LOAD_LOCK` on this connection's session until the block ends (or the session does).

    Taken by asking every half second, not by one waiting `pg_advisory_lock`: a statement
    that waits holds its snapshot, a concurrent index build waits for every older snapshot
    to end, and that build holds the lock: a deadlock, PostgreSQL would abort one of the two.
    """
    with connection.cursor() as cursor:
        while True:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [BULK_LOAD_LOCK])
            if cursor.fetchone()[0]:
                break
            time.sleep(_LOCK_POLL_SECONDS)
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [BULK_LOAD_LOCK])


def repair_dropped_indexes(*, defer: bool = False) -> list[str]:
    """Build every recorded index and foreign key a killed bulk load left missing; their names.
    With `defer`, leave the trigram index to `build_deferred_indexes`.

    One query when there is nothing to repair. Skipped (returns []) while a bulk load holds
    its lock: that load builds them itself when it ends.
    """
    if connection.vendor != "postgresql" or not DroppedIndex.objects.exists():
        return []
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [BULK_LOAD_LOCK])
        if not cursor.fetchone()[0]:
            return []
        cursor.execute(_MAINTENANCE_SETTINGS)
        records = list(DroppedIndex.objects.order_by("table", "kind", "name"))  # foreign keys first
        if defer:
            records = [record for record in records if not deferrable(record.definition)]
        for record in records:
            _build(cursor, record.table, [(record.name, record.definition)], record.kind)
    return [record.name for record in records]


def build_deferred_indexes() -> list[str]:
    """Build everything recorded as missing, the trigram index with CREATE INDEX CONCURRENTLY
    (reads and writes go on meanwhile); the names built.

    Outside any transaction. Skipped (returns []) while a bulk load holds its lock: that load
    leaves the index recorded and asks for this again when it ends.
    """
    if connection.vendor != "postgresql" or not DroppedIndex.objects.exists():
        return []
    if connection.in_atomic_block:
        raise RuntimeError("CREATE INDEX CONCURRENTLY cannot run in a transaction")
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [BULK_LOAD_LOCK])
        if not cursor.fetchone()[0]:
            return []
        try:
            built = repair_dropped_indexes(defer=True)  # a killed load's btrees and foreign keys
            for record in DroppedIndex.objects.filter(kind=DroppedIndex.Kind.INDEX).order_by("name"):
                started = time.monotonic()
                _build_concurrently(cursor, record)
                built.append(record.name)
                logger.info("index %s built concurrently in %.1f s", record.name, time.monotonic() - started)
        finally:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [BULK_LOAD_LOCK])
    return built


def _build_concurrently(cursor: CursorWrapper, record: DroppedIndex) -> None:
    if not _valid_index(cursor, record.name, concurrently=True):
        # Session settings (no transaction to scope them): reset after.
        cursor.execute("SET maintenance_work_mem = '1GB'; SET statement_timeout = 0")
        try:
            cursor.execute(record.definition.replace("CREATE INDEX ", "CREATE INDEX CONCURRENTLY ", 1))
        finally:
            cursor.execute("RESET maintenance_work_mem; RESET statement_timeout")
    record.delete()


def build_deferred_after_commit() -> list[str]:
    """Once the import's transaction commits, have what it left recorded built as
    IMPORT_TRIGRAM_INDEX says: queued to a worker ("worker"; built here when the broker
    cannot be reached) or left for `repair_indexes` and the next `migrate` ("later"). The
    names still missing when this returns (outside a transaction the commit has happened)."""
    if connection.vendor != "postgresql" or not DroppedIndex.objects.exists():
        return []
    if settings.IMPORT_TRIGRAM_INDEX != LATER:
        transaction.on_commit(_build_deferred_now)
    return list(DroppedIndex.objects.order_by("name").values_list("name", flat=True))


def _build_deferred_now() -> None:
    from .tasks import build_deferred_indexes_task  # the tasks import the app's modules

    try:
        build_deferred_indexes_task.delay()
    except Exception as error:  # no broker: build here, as without a worker
        logger.warning("could not queue the deferred index build (%s); building it here", error)
        build_deferred_indexes()
