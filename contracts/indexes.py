"""Dropping a table's secondary indexes and foreign keys for a bulk load, and building them again.

Measured on 1M rows (2 cores): COPY with every index of the contract table in place took
over three minutes, the trigram index and row-by-row foreign key checks (~40 s) being most
of it; building the same indexes once afterwards takes well under a minute. The primary key
and unique constraints stay (cheap to maintain, upserts need them, others may depend on
them). PostgreSQL only.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.db import connection, models


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
        """Create every dropped index and foreign key again; call inside a transaction."""
        quoted = connection.ops.quote_name(self.table)
        with connection.cursor() as cursor:
            # Sorts for the btree builds fit in memory; reset at commit.
            cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
            for _, definition in self.indexes:
                cursor.execute(definition)
            for name, definition in self.foreign_keys:
                constraint = connection.ops.quote_name(name)
                cursor.execute(f"ALTER TABLE {quoted} ADD CONSTRAINT {constraint} {definition}")


def indexes_dropped(model: type[models.Model]) -> DroppedIndexes:
    """Drop the table's plain indexes (not those behind a constraint) and outgoing foreign keys."""
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
