"""The job table's hot statements in plain SQL, written from the model's own metadata.

A submit and each step of a running job touch the Job table a few times. Building those
statements through the ORM (filter → WHERE tree → compiled SQL, then a second query to read
the row back) cost about 0.45 ms of CPU each here, four to five times what the same
statement costs through a cursor, while PostgreSQL ran it in a tenth of a millisecond. So
the statements on those paths are written here once: table and column names, value
conversions and row construction all come from ``Job._meta``, so they follow the model and
run on PostgreSQL and SQLite alike (both support ``RETURNING``). Where a step sends more
than one statement, PostgreSQL gets them as one query string: one round trip. Everything
else about jobs (lists, the sweeper, cancels, the admin) keeps the ORM.

Every write here is a conditional update or an insert that a unique constraint guards, the
same as before: whoever matches no row lost a race and backs off.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from functools import cache
from typing import Any, NamedTuple

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import Field

from .models import ACTIVE_STATES, Job

_FIELDS: tuple[Field, ...] = tuple(Job._meta.concrete_fields)
_TABLE = Job._meta.db_table
_COLUMN = {field.name: field.column for field in _FIELDS} | {field.attname: field.column for field in _FIELDS}


def _q(name: str) -> str:
    return _quoted(connection.vendor, name)


@cache
def _quoted(vendor: str, name: str) -> str:
    del vendor  # the cache key: each backend quotes names its own way
    return connection.ops.quote_name(name)


def _column(name: str) -> str:
    return _q(_COLUMN[name])


def _prep(name: str, value: Any) -> Any:
    """A value as the database takes it for the field ``name`` (SQLite wants text dates)."""
    return Job._meta.get_field(name).get_db_prep_save(value, connection)


def _in(name: str, values: Sequence[Any]) -> tuple[str, list[Any]]:
    return f"{_column(name)} IN ({', '.join(['%s'] * len(values))})", [_prep(name, v) for v in values]


@cache
def _converters(vendor: str) -> tuple[tuple[Any, tuple[Callable[..., Any], ...]], ...]:
    """Per column, its expression and what the ORM applies to a value read back (SQLite's
    text dates, say)."""
    del vendor  # the cache key: converters depend on the backend only
    out = []
    for field in _FIELDS:
        expression = field.get_col(_TABLE)
        converters = connection.ops.get_db_converters(expression) + field.get_db_converters(connection)
        out.append((expression, tuple(converters)))
    return tuple(out)


def _all_columns() -> str:
    return _column_list(connection.vendor)


@cache
def _column_list(vendor: str) -> str:
    return ", ".join(_quoted(vendor, field.column) for field in _FIELDS)


def _job_from(row: Sequence[Any]) -> Job:
    values = []
    for value, (expression, converters) in zip(row, _converters(connection.vendor), strict=True):
        for convert in converters:
            value = convert(value, expression, connection)
        values.append(value)
    return Job.from_db(connection.alias, [field.attname for field in _FIELDS], values)


def _one(sql: str, params: Iterable[Any], *, skip_flush: bool = False) -> Job | None:
    with connection.cursor() as cursor:
        if skip_flush:
            # One round trip: several statements in one query string run as one implicit
            # transaction, which SET LOCAL covers. (Django's psycopg cursor binds parameters
            # on the client, which is what allows more than one statement.)
            cursor.execute(f"SET LOCAL synchronous_commit TO OFF; {sql}", list(params))
            cursor.nextset()
        else:
            cursor.execute(sql, list(params))
        row = cursor.fetchone()
    return _job_from(row) if row is not None else None


def _one_query_string_one_transaction() -> bool:
    """Whether several statements may go in one query string, which PostgreSQL runs as one
    transaction of its own, committed when the answer comes back: not on SQLite (one statement
    per call), not inside the caller's transaction block (the statements would join it), and
    not with a server-side binding cursor (one statement per query)."""
    return (
        connection.vendor == "postgresql"
        and connection.get_autocommit()
        and not connection.settings_dict["OPTIONS"].get("server_side_binding")
    )


class Counted(NamedTuple):
    """What ``insert_below_limits`` found and counted, and whether the job went in.

    ``twin`` is the owner's queued or running job for the same request (cache key), found
    before any insert: then nothing is inserted, whatever the limits, and the submit joins
    it. ``duplicate`` when the job was within the limits but a unique constraint kept it out
    all the same (an identical submit or one with the same Idempotency-Key committed first)."""

    inserted: bool
    active: int
    of_kinds: int
    duplicate: bool = False
    twin: Job | None = None


def insert_below_limits(
    job: Job, *, max_active: int, kinds: Sequence[str] = (), max_of_kinds: int | None = None
) -> Counted:
    """INSERT the new ``job`` (its ``auto_now`` times set here, as ``save()`` would) unless
    its owner has a queued or running job for the same request already (returned as
    ``twin``, to be joined), and only while the owner has fewer than ``max_active`` queued
    or running jobs (and fewer than ``max_of_kinds`` of ``kinds``). The look-up and the
    count run under the owner's row lock, so that one user's concurrent submits are seen
    one after another and cannot overshoot a limit together, and only when no unique
    constraint holds it out (``ON CONFLICT DO NOTHING``: an identical submit that won the
    race is reported as ``duplicate``, not raised).

    The look-up reads before the insert rather than leaving twins to the unique index: a
    twin that is finishing right now is still joined (the statement's snapshot has it
    running), where the index would let the insert through as soon as the twin's SUCCESS
    commits, and queue the same work again.

    On PostgreSQL the lock, the look-up, the count and the conditional insert go as one
    query string: one round trip and one transaction, committed when it returns, where they
    had been six (the look-up, BEGIN, lock, count, insert, COMMIT) with the lock held across
    four, each sent only once the request's thread had the GIL back. The look-up and the
    count are a statement after the lock's, so under READ COMMITTED they see every job that
    the lock's previous holder committed. Elsewhere (SQLite; inside the caller's
    transaction) they are sent one by one in a transaction (a savepoint) of their own.
    """

    def below_limits(active: int, of_kinds: int) -> bool:
        return active < max_active and (max_of_kinds is None or of_kinds < max_of_kinds)

    values = _values_of(job)
    if _one_query_string_one_transaction():
        inserted, active, of_kinds, twin = _insert_below_limits_at_once(
            job, values, max_active, kinds, max_of_kinds
        )
    else:
        inserted = False
        with transaction.atomic():
            lock_owner(job.owner_id)
            twin = active_for(job.owner_id, job.cache_key)
            active, of_kinds = count_active(job.owner_id, kinds)
            if twin is None and below_limits(active, of_kinds):
                with connection.cursor() as cursor:
                    cursor.execute(f"{_insert_statement()} ON CONFLICT DO NOTHING", values)
                    inserted = cursor.rowcount == 1
    if inserted:
        _saved(job)
    duplicate = twin is None and below_limits(active, of_kinds) and not inserted
    return Counted(inserted, active, of_kinds, duplicate=duplicate, twin=twin)


def _insert_below_limits_at_once(
    job: Job, values: list[Any], max_active: int, kinds: Sequence[str], max_of_kinds: int | None
) -> tuple[bool, int, int, Job | None]:
    lock_sql, lock_params = _lock_owner_statement(job.owner_id)
    twin_sql, twin_params = _active_for_statement(job.owner_id, job.cache_key)
    count_sql, count_params = _count_active_statement(job.owner_id, kinds)
    below = "active < %s"
    limits = [max_active]
    if max_of_kinds is not None:
        below += " AND of_kinds < %s"
        limits.append(max_of_kinds)
    sql = (
        f"{lock_sql}; "
        f"WITH twin AS ({twin_sql}), counted AS ({count_sql}), "
        f"inserted AS (INSERT INTO {_q(_TABLE)} ({_all_columns()}) "
        f"SELECT {_placeholders()} FROM counted WHERE {below} AND NOT EXISTS (SELECT 1 FROM twin) "
        "ON CONFLICT DO NOTHING RETURNING 1) "
        "SELECT EXISTS (SELECT 1 FROM inserted), active, of_kinds, twin.* FROM counted LEFT JOIN twin ON TRUE"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*lock_params, *twin_params, *count_params, *values, *limits])
        cursor.nextset()  # past the lock's row
        inserted, active, of_kinds, *twin_row = cursor.fetchone()
    twin = _job_from(twin_row) if twin_row[0] is not None else None  # the id: NULL when none
    return bool(inserted), int(active), int(of_kinds), twin


def _values_of(job: Job) -> list[Any]:
    return [field.get_db_prep_save(field.pre_save(job, add=True), connection) for field in _FIELDS]


def _insert_statement() -> str:
    return f"INSERT INTO {_q(_TABLE)} ({_all_columns()}) VALUES ({_placeholders()})"


def _placeholders() -> str:
    return ", ".join(["%s"] * len(_FIELDS))


def _saved(job: Job) -> None:
    job._state.adding = False
    job._state.db = connection.alias


def active_for(owner_id: int, cache_key: str) -> Job | None:
    """The owner's queued or running job for this request, if any (a unique index allows one)."""
    return _one(*_active_for_statement(owner_id, cache_key))


def _active_for_statement(owner_id: int, cache_key: str) -> tuple[str, list[Any]]:
    states, params = _in("state", ACTIVE_STATES)
    sql = (
        f"SELECT {_all_columns()} FROM {_q(_TABLE)} "
        f"WHERE {_column('owner')} = %s AND {_column('cache_key')} = %s AND {states} LIMIT 1"
    )
    return sql, [owner_id, cache_key, *params]


def count_active(owner_id: int, kinds: Sequence[str] = ()) -> tuple[int, int]:
    """The owner's queued or running jobs: all of them, and those of ``kinds``."""
    sql, params = _count_active_statement(owner_id, kinds)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        total, of_kind = cursor.fetchone()
    return int(total), int(of_kind)


def _count_active_statement(owner_id: int, kinds: Sequence[str]) -> tuple[str, list[Any]]:
    states, params = _in("state", ACTIVE_STATES)
    if kinds:
        of_kinds, kind_params = _in("kind", kinds)
    else:
        of_kinds, kind_params = "1 = 0", []
    sql = (
        f"SELECT COUNT(*) AS active, COALESCE(SUM(CASE WHEN {of_kinds} THEN 1 ELSE 0 END), 0) AS of_kinds "
        f"FROM {_q(_TABLE)} WHERE {_column('owner')} = %s AND {states}"
    )
    return sql, [*kind_params, owner_id, *params]


def transition(
    job_id: Any,
    *,
    states: Sequence[str],
    changes: Mapping[str, Any],
    count_attempt: bool = False,
    quiet_states: Sequence[str] = (),
    quiet_before: datetime | None = None,
    max_attempts: int | None = None,
    progress_below: int | None = None,
    updated_before: datetime | None = None,
    attempt: int | None = None,
) -> Job | None:
    """A worker's step (claim, progress, success, failure, retry): UPDATE one job that is in
    one of ``states`` and return its new row, or None when it is not (someone else moved it
    first).

    For a claim: a job in one of ``quiet_states`` qualifies too when nothing updated it since
    ``quiet_before``; ``max_attempts`` bounds the attempts so far and ``count_attempt`` adds one.
    For a progress write: ``progress_below`` keeps progress from going back.
    ``updated_before`` takes the job only if nothing touched it since (the sweeper's guard
    against a claim that landed after it looked). ``attempt`` takes it only while that
    attempt is its latest (a run failing for itself, never for a newer attempt).

    The commit does not wait for the WAL flush, which was half of a small job's time. A
    database crash can lose the last such write; the job then reads as one step earlier,
    which the recovery sweeper runs again (its result is already in Redis), never as a state
    it did not reach. Submits and cancels, which a client was told about, stay durable.
    """
    assignments = [f"{_column(name)} = %s" for name in changes]
    params: list[Any] = [_prep(name, value) for name, value in changes.items()]
    if count_attempt:
        assignments.append(f"{_column('attempts')} = {_column('attempts')} + 1")
    params.append(_prep("id", job_id))
    state_sql, state_params = _in("state", states)
    params += state_params
    if quiet_states:
        quiet_sql, quiet_params = _in("state", quiet_states)
        state_sql = f"({state_sql} OR ({quiet_sql} AND {_column('updated_at')} < %s))"
        params += [*quiet_params, _prep("updated_at", quiet_before)]
    where = f"{_column('id')} = %s AND {state_sql}"
    if max_attempts is not None:
        where += f" AND {_column('attempts')} < %s"
        params.append(max_attempts)
    if progress_below is not None:
        where += f" AND {_column('progress')} < %s"
        params.append(progress_below)
    if updated_before is not None:
        where += f" AND {_column('updated_at')} < %s"
        params.append(_prep("updated_at", updated_before))
    if attempt is not None:
        where += f" AND {_column('attempts')} = %s"
        params.append(attempt)
    sql = f"UPDATE {_q(_TABLE)} SET {', '.join(assignments)} WHERE {where} RETURNING {_all_columns()}"
    return _one(sql, params, skip_flush=_one_query_string_one_transaction())


def lock_owner(owner_id: int) -> None:
    """Lock the owner's user row until the transaction ends, so that one user's submits are
    counted against their limits one after another. SQLite has no row locks; there every
    transaction takes the database's write lock when it begins (``transaction_mode``
    IMMEDIATE in the settings), which serializes the submits instead."""
    if not connection.features.has_select_for_update:
        return
    with connection.cursor() as cursor:
        cursor.execute(*_lock_owner_statement(owner_id))


def _lock_owner_statement(owner_id: int) -> tuple[str, list[Any]]:
    users = get_user_model()._meta
    return f"SELECT 1 FROM {_q(users.db_table)} WHERE {_q(users.pk.column)} = %s FOR UPDATE", [owner_id]
