"""Writes to the contract data that more than one caller needs (importer, generator, ...)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from django.db import connection, transaction
from django.db.models.functions import MD5

from .entities import ENTITIES
from .models import Contract, NamedEntity

# Names per INSERT and per IN (...) list: SQLite bounds the variables of a statement (999 in older builds),
# and PostgreSQL bounds the parameters of one message (65535) once server-side binding is on.
IN_LIST_MAX = 10_000


def entity_ids_for_names(model: type[NamedEntity], names: Iterable[str]) -> dict[str, int]:
    """The id of each name (matched exactly), creating the rows that do not exist yet.

    Conflicts are ignored so that two imports creating the same name at once both succeed,
    and new names are inserted in the order given (give them sorted when two writers may
    meet: they then lock in one order). Names are found through md5(name), the unique index
    that works for a name of any length. On PostgreSQL the names go through COPY into a
    temporary table, then one INSERT ... ON CONFLICT DO NOTHING and one join: measured on
    a 1M-row import, the IN (...) lists of the portable way below took 40% of the time
    (10,000 md5 literals per query, parsed, bound and planned).
    """
    wanted = list(dict.fromkeys(name for name in names if name))
    if not wanted:
        return {}
    if connection.vendor == "postgresql":
        return _entity_ids_by_copy(model, wanted)
    ids = _ids_by_name(model, set(wanted))
    missing = [name for name in wanted if name not in ids]
    if missing:
        model.objects.bulk_create(
            [model(name=name) for name in missing], ignore_conflicts=True, batch_size=IN_LIST_MAX
        )
        ids.update(_ids_by_name(model, set(missing)))
    return ids


def _entity_ids_by_copy(model: type[NamedEntity], names: list[str]) -> dict[str, int]:
    table = connection.ops.quote_name(model._meta.db_table)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("CREATE TEMPORARY TABLE IF NOT EXISTS entity_names (position integer, name text)")
        cursor.execute("TRUNCATE entity_names")
        with cursor.copy("COPY entity_names (position, name) FROM STDIN") as copy:
            for row in enumerate(names):
                copy.write_row(row)
        cursor.execute(
            f"INSERT INTO {table} (name) SELECT name FROM entity_names ORDER BY position "
            "ON CONFLICT DO NOTHING"
        )
        cursor.execute(
            f"SELECT t.name, t.id FROM entity_names g JOIN {table} t "
            "ON md5(t.name) = md5(g.name) AND t.name = g.name"
        )
        return dict(cursor.fetchall())


def _ids_by_name(model: type[NamedEntity], names: set[str]) -> dict[str, int]:
    chunk = min(connection.features.max_query_params or IN_LIST_MAX, IN_LIST_MAX)
    digests = sorted(hashlib.md5(name.encode(), usedforsecurity=False).hexdigest() for name in names)
    ids: dict[str, int] = {}
    for start in range(0, len(digests), chunk):
        found = (
            model.objects.alias(name_md5=MD5("name"))
            .filter(name_md5__in=digests[start : start + chunk])
            .order_by()
            .values_list("name", "id")
        )
        ids.update((name, id_) for name, id_ in found if name in names)
    return ids


def lift_statement_timeout() -> None:
    """Let this process's statements run as long as they need (PostgreSQL only).

    ``DATABASE_STATEMENT_TIMEOUT`` bounds what a request may cost. An import or generate is
    an operator's command whose single COPY of millions of rows outlasts it (measured: 5.5M
    generated rows cut off after 30 s), so its connection drops the limit for the session.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET statement_timeout = 0")


def contracts_vacuum_analyze() -> None:
    """Fresh planner statistics and a visibility map after a bulk load (PostgreSQL).

    Freshly loaded rows are not yet marked all-visible, so every count(*) behind a chip
    filter would visit the heap: VACUUM turns a 220 ms bitmap heap scan over one area's
    146,000 rows into a 20 ms index-only scan, and costs under a second per million rows.
    VACUUM cannot run inside a transaction; there, ANALYZE alone still fixes the plans.
    """
    if connection.vendor != "postgresql":
        return
    models = (Contract, *(entity.model for entity in ENTITIES))
    tables = ", ".join(connection.ops.quote_name(m._meta.db_table) for m in models)
    command = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
    with connection.cursor() as cursor:
        cursor.execute(f"{command} {tables}")


def dataset_changed() -> None:
    """Called by `DatasetVersion.bump()` (every import and generate): once the transaction
    commits, build the columnar snapshot of the new version (see contracts.columnar)."""
    from .columnar import build_after_commit  # the columnar package imports these models

    build_after_commit()
