"""Columnar snapshots of the contracts: one read-only DuckDB file per dataset version.

PostgreSQL (or the SQLite of `make run`) stays the system of record. A snapshot is a copy of
the contracts and the four entity tables, laid out by column and sorted by award date, that
DuckDB scans and groups an order of magnitude faster than a row store can.

- **Identity.** A snapshot is named after the dataset version row and the file layout
  (`layout<n>-l<line>-v<version>-<stamp>`), in a directory per database, so it never answers
  for other data: every import or generate bumps the version, a recreated or flushed
  database starts a new line, and a release that changes the layout builds its own files.
- **Building.** Under an exclusive file lock (one builder per directory, across processes
  and machines sharing it), the rows are read in one repeatable-read transaction together
  with the version they belong to, streamed out as CSV (PostgreSQL: `COPY ... TO STDOUT`; any
  other database through its cursor), loaded by DuckDB's core CSV reader into a temporary
  file (no extension is ever downloaded), and renamed into place: a reader sees the whole
  file or none of it. Then `prune` deletes what no reader needs: at most the current and
  one previous snapshot keep their names.
- **When.** Right after the commit of an import or generate (`DatasetVersion.bump()`): by a
  worker (`COLUMNAR_BUILD_IN_WORKER`, the task `contracts.build_columnar_snapshot`), so that
  an import ends at its commit, or by the committing process itself when the broker cannot
  be reached; and lazily, in a background thread, by any process that finds the current one
  missing (a serving process with no worker around builds it at its first query).

Which snapshot answers a query, and how readers let go of old ones, is `serving`'s job.
"""

from __future__ import annotations

import csv
import fcntl
import hashlib
import io
import logging
import os
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import NamedTuple, TextIO, TypeVar

import duckdb
from django.conf import settings
from django.db import connection, connections, transaction
from django.db.models import QuerySet
from django.db.models.functions import Upper
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from ..entities import BY_KEY, ENTITIES
from ..filters import area_entries
from ..models import Contract, DatasetVersion

logger = logging.getLogger(__name__)
T = TypeVar("T")

SUFFIX = ".duckdb"
# The layout of a snapshot file; raised when the tables below or what they hold change, so
# that code reading a new layout never opens an old file (it builds its own, next to the old
# one's readers). 4: an entity named "" is held as "", no longer as no name (NULL). 5: a
# title's upper-case copy keeps "ß" as the database's UPPER does.
LAYOUT = 5
_CONTRACT_COLUMNS = {
    "id": "BIGINT",
    "reference_id": "VARCHAR",
    "title": "VARCHAR",
    "notice_title": "VARCHAR",
    "contractor_id": "BIGINT",
    "organization_id": "BIGINT",
    "area_id": "BIGINT",
    "business_category_id": "BIGINT",
    "amount": "DECIMAL(38,2)",
    "award_date": "DATE",
    "procurement_mode": "VARCHAR",
    "classification": "VARCHAR",
    "approved_budget": "DECIMAL(38,2)",
    "organization_region": "VARCHAR",
    "organization_province": "VARCHAR",
    # The procuring entity's region and province as the database upper-cases them (annotated
    # in `_dump`), so a place chip matches what it matches on the database, letter for letter.
    "u_organization_region": "VARCHAR",
    "u_organization_province": "VARCHAR",
}


def upper_like_database(column: str) -> str:
    """DuckDB's upper() as the database's UPPER: they differ in one letter only, "ß", which
    DuckDB makes "ẞ" and PostgreSQL keeps (compared for every code point below U+30000). A
    keyword "straße" must find "Straße" in both; the few titles with "ß" are upper-cased
    around it."""
    text = f"coalesce({column}, '')"
    return (
        f"CASE WHEN contains({text}, 'ß') "
        f"THEN array_to_string(list_transform(string_split({text}, 'ß'), lambda part: upper(part)), 'ß') "
        f"ELSE upper({text}) END"
    )


# Text columns are NOT NULL in the database; CSV cannot tell '' from NULL, so both become ''.
# Amounts become exact integer centavos. They are read as DECIMAL(38,2), wider than the
# column's DECIMAL(18,2): DuckDB keeps a DECIMAL(18,2) times 100 at width 18, which overflows
# for the column's largest amounts, and SQLite, which keeps a decimal as a float, hands
# 9,999,999,999,999,999.99 back as 10,000,000,000,000,000. Either is well inside a BIGINT
# of centavos.
# Titles get an upper-case copy for keyword scans.
# The notice title's copy is empty where it repeats the award title's (nine rows in ten of
# generated data, four in five of a real-format export): a keyword matches either title, so
# such a row is found by its title alone, and an empty string costs the scan next to
# nothing. Counting one keyword's matches in 5.5M generated rows: 320 -> 196 ms. A file
# with both copies full answers the same, so this is not a change of LAYOUT.
_CONTRACT_SELECT = f"""
    id, coalesce(reference_id, '') AS reference_id,
    coalesce(title, '') AS title, coalesce(notice_title, '') AS notice_title,
    {upper_like_database("title")} AS utitle,
    CASE WHEN {upper_like_database("notice_title")} = {upper_like_database("title")} THEN ''
         ELSE {upper_like_database("notice_title")} END AS unotice,
    contractor_id, organization_id, area_id, business_category_id,
    CAST(amount * 100 AS BIGINT) AS cents, award_date,
    CAST(year(award_date) * 12 + month(award_date) - 1 AS INTEGER) AS mon,
    coalesce(procurement_mode, '') AS procurement_mode,
    coalesce(classification, '') AS classification,
    CAST(approved_budget * 100 AS BIGINT) AS budget_cents,
    coalesce(organization_region, '') AS organization_region,
    coalesce(organization_province, '') AS organization_province,
    coalesce(u_organization_region, '') AS u_organization_region,
    coalesce(u_organization_province, '') AS u_organization_province
"""
_ENTITY_COLUMNS = {"id": "BIGINT", "name": "VARCHAR", "uname": "VARCHAR"}
_AREA_ENTRY_COLUMNS = {"area_id": "BIGINT", "entry": "VARCHAR"}

# A perfect hash table (a direct array indexed by the group key) for groupings whose key spans
# up to 2^20 values (every entity id range here): grouping a million rows by contractor takes
# a quarter of the time of a general hash table. Set when a file is opened, so every cursor
# starts with it: a SET per cursor cost a fifth of a millisecond on every query.
PERFECT_HASH_BITS = 20

_lock = threading.Lock()
_builder: threading.Thread | None = None
# After a background build of a version fails, queries keep asking the database for a while
# before one of them tries that version again: 30 s after the first failure, twice as long
# after each one since, at most half an hour. A build that fails for a while (a full disk)
# is not retried by every query, and one that fails for its data (a row too long to load)
# does not dump the whole table every 30 s (about 20 s of work at 5.5M rows). A new version
# is tried at once.
RETRY_AFTER_FAILURE_SECONDS = 30.0
RETRY_AFTER_FAILURE_MAX_SECONDS = 1800.0


@dataclass(frozen=True)
class _Failure:
    key: str  # the version whose build failed
    count: int  # how many builds of it failed in a row
    at: float  # time.monotonic() of the last

    def holds_back(self, key: str) -> bool:
        doublings = min(self.count - 1, 16)  # past the cap long before; no float overflow ever
        wait = min(RETRY_AFTER_FAILURE_SECONDS * 2**doublings, RETRY_AFTER_FAILURE_MAX_SECONDS)
        return key == self.key and time.monotonic() - self.at < wait


_failure: _Failure | None = None


def _forget_after_fork() -> None:
    """A forked child (prefork worker, gunicorn) starts its own builder thread if it needs one."""
    global _builder, _lock, _failure
    _builder = None
    _failure = None
    _lock = threading.Lock()


os.register_at_fork(after_in_child=_forget_after_fork)


def duckdb_config() -> dict[str, str | int]:
    return {
        "memory_limit": settings.COLUMNAR_MEMORY_LIMIT,
        "threads": settings.COLUMNAR_THREADS,
        "autoinstall_known_extensions": False,  # core only: nothing is downloaded, ever
        "autoload_known_extensions": False,
        "perfect_ht_threshold": PERFECT_HASH_BITS,
    }


def current_key() -> str | None:
    """`layout<n>-l<line>-v<version>-<stamp>` of the data in the database now; None before
    any import or generate. The line is when the version row began (see DatasetVersion)."""
    # Asked before every columnar query: plain SQL, because compiling the ORM query cost
    # three times as much as running it (as for DatasetVersion.current()).
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT version, updated_at, created_at FROM {DatasetVersion._meta.db_table} WHERE id = 1"
        )
        row = cursor.fetchone()
    if row is None:
        return None
    version, updated_at, created_at = row
    return f"{_line_prefix(_epoch(created_at))}-v{version}-{int(_epoch(updated_at) * 1_000_000)}"


def _epoch(value: datetime | str) -> float:
    """Seconds since the epoch of a timestamp as the driver returns it: aware on PostgreSQL,
    naive (or text) in the connection's time zone on SQLite, as the ORM would read it."""
    if isinstance(value, str):
        parsed = parse_datetime(value)
        if parsed is None:
            raise ValueError(f"not a timestamp: {value!r}")
        value = parsed
    if timezone.is_naive(value):
        value = timezone.make_aware(value, connection.timezone)
    return value.timestamp()


def _line_prefix(created: float) -> str:
    return f"layout{LAYOUT}-l{int(created * 1_000_000)}"


_KEY = re.compile(r"^(?P<line>layout\d+-l\d+)-v(?P<version>\d+)-\d+$")


def key_version(key: str) -> int:
    """The dataset version a snapshot key (or file stem) names."""
    match = _KEY.match(key)
    if match is None:
        raise ValueError(f"not a snapshot key: {key!r}")
    return int(match["version"])


def older_snapshots(directory: Path, key: str) -> list[Path]:
    """Complete snapshots in `directory` of earlier versions of the same data (same layout,
    same line of versions as `key`), newest first."""
    match = _KEY.match(key)
    if match is None or not directory.is_dir():
        return []
    version = int(match["version"])
    found = []
    for path in directory.glob(f"{match['line']}-v*{SUFFIX}"):
        other = _KEY.match(path.stem)
        if other is not None and other["line"] == match["line"] and int(other["version"]) < version:
            found.append((int(other["version"]), path))
    return [path for _version, path in sorted(found, reverse=True)]


def snapshot_dir() -> Path:
    """The snapshots of this process's database: a directory per database, never shared by two."""
    db = connection.settings_dict
    identity = f"{connection.vendor}:{db.get('HOST') or ''}:{db.get('PORT') or ''}:{db['NAME']}"
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", Path(str(db["NAME"])).name)[:40]
    digest = hashlib.sha256(identity.encode()).hexdigest()[:10]
    return Path(settings.COLUMNAR_DIR) / f"{name}-{digest}"


# --- Building ----------------------------------------------------------------------------------


def start_background_build(key: str) -> None:
    """Build the snapshot of version ``key`` (the current one) in a daemon thread of this
    process, unless one is running or a build of ``key`` failed too recently (``_Failure``)."""
    global _builder
    with _lock:
        if _builder is not None and _builder.is_alive():
            return
        if _failure is not None and _failure.holds_back(key):
            return
        _builder = threading.Thread(target=_build_quietly, args=(key,), name="columnar-build", daemon=True)
        _builder.start()


def _build_quietly(key: str) -> None:
    global _failure
    try:
        build_snapshot(wait=False)
        _failure = None
    except Exception:  # a failed build only means the database keeps answering
        count = _failure.count + 1 if _failure is not None and _failure.key == key else 1
        _failure = _Failure(key, count, time.monotonic())
        logger.exception("building the columnar snapshot failed (%d in a row for this version)", count)
    finally:
        connections.close_all()  # this thread's own database connections


def build_after_commit() -> None:
    """Build the new snapshot once the transaction that changed the data commits."""
    if settings.COLUMNAR_ENABLED and settings.COLUMNAR_BUILD_ON_COMMIT:
        transaction.on_commit(_build_after_commit_now)


def _build_after_commit_now() -> None:
    if settings.COLUMNAR_BUILD_IN_WORKER:
        from ..tasks import build_columnar_snapshot_task  # the tasks import this module

        try:
            build_columnar_snapshot_task.delay()
        except Exception as error:  # no broker: build here, as without a worker
            logger.warning("could not queue the columnar snapshot build (%s); building it here", error)
        else:
            return
    try:
        build_snapshot(wait=True)
    except Exception:  # the import itself succeeded; readers fall back and retry the build
        logger.exception("building the columnar snapshot after commit failed")


def build_snapshot(*, wait: bool = True) -> Path | None:
    """Make sure the snapshot of the current dataset version exists; return its path.

    With `wait=False`, return None at once when another process holds the build lock.
    None too when there is no data version yet (nothing was ever imported or generated).
    """
    directory = snapshot_dir()
    directory.mkdir(parents=True, exist_ok=True)
    with _build_lock(directory / "build.lock", wait=wait) as locked:
        if not locked:
            return None
        started = time.monotonic()
        with tempfile.TemporaryDirectory(prefix=".dump-", dir=directory) as tmp:
            dumped = _dump(Path(tmp), directory)
            if dumped is None:
                return None
            if dumped.rows is not None:
                partial = directory / f".building-{dumped.key}{SUFFIX}"
                partial.unlink(missing_ok=True)
                _load(Path(tmp), partial, dumped)
                os.replace(partial, dumped.target)
                logger.info(
                    "columnar snapshot %s: %d contracts in %.1f s",
                    dumped.key,
                    dumped.rows,
                    time.monotonic() - started,
                )
        prune(directory, dumped.target)
        return dumped.target


@contextmanager
def _build_lock(path: Path, *, wait: bool) -> Iterator[bool]:
    """An exclusive lock on `path` (flock: released by the kernel if the holder dies)."""
    with open(path, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class _Dump(NamedTuple):
    """What ``_dump`` wrote for the version ``key``, to be loaded into ``target``."""

    key: str
    target: Path
    rows: int | None  # contracts written; None when the snapshot already exists
    longest_rows: dict[str, int]  # per CSV file (its stem), its longest row in bytes


def _dump(tmp: Path, directory: Path) -> _Dump | None:
    """Write the contracts and entities as CSV, with the version they belong to (one read)."""
    with _one_version_read():
        key = current_key()
        if key is None:
            return None
        target = directory / f"{key}{SUFFIX}"
        if target.exists():
            return _Dump(key, target, None, {})
        contracts = (
            Contract.objects.order_by()
            .annotate(
                u_organization_region=Upper("organization_region"),
                u_organization_province=Upper("organization_province"),
            )
            .values_list(*_CONTRACT_COLUMNS)
        )
        longest: dict[str, int] = {}
        rows, longest["contracts"] = _write_csv(contracts, tmp / "contracts.csv")
        for entity in ENTITIES:
            names = entity.model.objects.order_by().annotate(uname=Upper("name"))
            path = tmp / f"{entity.key}.csv"
            _, longest[entity.key] = _write_csv(names.values_list("id", "name", "uname"), path)
        areas = BY_KEY["area"].model.objects.order_by().values_list("id", "name")
        with open(tmp / "area_entry.csv", "w", newline="", encoding="utf-8") as out:
            measured = _RowLengths(out)
            writer = csv.writer(measured)
            for pk, name in areas.iterator(chunk_size=5000):
                writer.writerows((pk, entry) for entry in sorted(area_entries(name)))
            longest["area_entry"] = measured.longest
    if connection.vendor != "postgresql" and current_key() != key:
        return None  # read outside a transaction (below) while new data came in: build again
    return _Dump(key, target, rows, longest)


@contextmanager
def _one_version_read() -> Iterator[None]:
    """Where the dump's statements all read the same version of the data.

    PostgreSQL: one REPEATABLE READ, READ ONLY transaction. SQLite: no transaction, because
    there every transaction takes the write lock when it begins (the settings say why), and
    a dump would stop every writer for as long as it reads; ``_dump`` checks the version
    again after its last read instead."""
    if connection.vendor != "postgresql":
        yield
        return
    outermost = not connection.in_atomic_block  # else the isolation level is the caller's
    with transaction.atomic():
        with connection.cursor() as cursor:
            if outermost:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            # A build reads every row (minutes at 5.5M on a busy machine): not a request.
            cursor.execute("SET LOCAL statement_timeout = 0")
        yield


def _write_csv(queryset: QuerySet, path: Path) -> tuple[int, int]:
    """Stream a values_list queryset to a CSV file; returns the rows written and the longest
    row's length in bytes (``_read_csv`` sizes DuckDB's reader by it)."""
    sql, params = queryset.query.sql_with_params()
    rows = longest = 0
    with connection.cursor() as cursor, open(path, "wb") as out:
        if connection.vendor == "postgresql":
            # The raw psycopg cursor: it binds COPY parameters client-side (COPY takes none).
            # Each block it reads is one row, as PostgreSQL sends it.
            with cursor.cursor.copy(f"COPY ({sql}) TO STDOUT (FORMAT csv)", params or None) as copy:
                for block in copy:
                    out.write(block)
                    if len(block) > longest:
                        longest = len(block)
            rows = cursor.rowcount
        else:
            text = io.TextIOWrapper(out, encoding="utf-8", newline="")
            measured = _RowLengths(text)
            writer = csv.writer(measured)
            cursor.execute(sql, params)
            while batch := cursor.fetchmany(10_000):
                writer.writerows(batch)
                rows += len(batch)
            longest = measured.longest
            text.flush()
            text.detach()
    return rows, longest


class _RowLengths:
    """The ``write`` that ``csv.writer`` calls once per row, passed on to ``out``, keeping the
    longest row's length in UTF-8 bytes."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.longest = 0

    def write(self, row: str) -> int:
        if len(row) * 4 > self.longest:  # else it cannot be longer: UTF-8 is 1 to 4 bytes a character
            self.longest = max(self.longest, len(row.encode()))
        return self.out.write(row)


# DuckDB's CSV reader refuses a row longer than ``max_line_size`` (2 MB by default) and reads
# a file in buffers of ``buffer_size``, which must be larger: 16 times the line size by
# default, or the whole file when that is smaller. So each file is read with the line size its
# own longest row needs and a buffer to match, never more. Raising the line size to 1 GB for
# every file, to take any row PostgreSQL holds, made the buffer the whole file: at 5.5M rows a
# 1.2 GB block over the 512MB memory limit, and every build failed. A row must still fit the
# memory limit several times over: at 512MB a row of 30 MB loaded beside 7M others and one of
# 100 MB did not (measured); that version's build fails, and queries are answered as while
# it builds (``serving``: by an earlier version's snapshot, or else by the database).
_DEFAULT_LINE_BYTES = 2 * 2**20
_DEFAULT_BUFFER_BYTES = 16 * _DEFAULT_LINE_BYTES


def csv_reader_sizes(longest_row: int) -> tuple[int, int]:
    """``max_line_size`` and ``buffer_size`` for a CSV file whose longest row (its line end
    included) is ``longest_row`` bytes."""
    line = max(_DEFAULT_LINE_BYTES, longest_row)
    return line, max(_DEFAULT_BUFFER_BYTES, 2 * line)


def _read_csv(path: Path, columns: dict[str, str], longest_row: int) -> str:
    spec = ", ".join(f"'{name}': '{kind}'" for name, kind in columns.items())
    quoted = str(path).replace("'", "''")
    line, buffer = csv_reader_sizes(longest_row)
    return (
        f"read_csv('{quoted}', header = false, quote = '\"', escape = '\"', columns = {{{spec}}}, "
        f"max_line_size = {line}, buffer_size = {buffer})"
    )


def _load(tmp: Path, target: Path, dumped: _Dump) -> None:
    """The DuckDB file from the dumped CSV files."""

    def read(table: str, columns: dict[str, str]) -> str:
        return _read_csv(tmp / f"{table}.csv", columns, dumped.longest_rows[table])

    db = duckdb.connect(str(target), config=duckdb_config())
    try:
        db.execute("SET enable_progress_bar = false")
        db.execute(
            f"CREATE TABLE contracts AS SELECT {_CONTRACT_SELECT} "
            f"FROM {read('contracts', _CONTRACT_COLUMNS)} ORDER BY award_date, id"
        )
        # Search pages read their 20 rows by id: an index look-up each, not a scan of every title.
        db.execute("CREATE UNIQUE INDEX contracts_id ON contracts (id)")
        tables = {entity.key: _ENTITY_COLUMNS for entity in ENTITIES} | {"area_entry": _AREA_ENTRY_COLUMNS}
        for table, columns in tables.items():
            # Names are NOT NULL in the database, as the contracts' text columns are (above).
            select = ", ".join(
                f"coalesce({name}, '') AS {name}" if kind == "VARCHAR" else name
                for name, kind in columns.items()
            )
            db.execute(f"CREATE TABLE {table} AS SELECT {select} FROM {read(table, columns)}")
        db.execute("CREATE TABLE snapshot AS SELECT ? AS key, now() AS built_at", [dumped.key])
        db.execute("CHECKPOINT")
    finally:
        db.close()


def prune(directory: Path, current: Path) -> None:
    """Delete what no reader needs, while we hold the build lock (so nothing else is building).

    Leftovers of interrupted builds and snapshots of another layout or line of versions go at
    once, and so does every snapshot older than the newest previous one (a process still
    reading one keeps its open file; the system frees it when that process closes it). The
    newest previous snapshot goes only once no process has it open: readers hold a shared
    `flock` on theirs, and the last one to let go deletes it (`delete_unless_read`).
    """
    previous = older_snapshots(directory, current.stem)[:1]
    for path in directory.iterdir():
        if path == current or path.name == "build.lock":
            continue
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        elif path in previous:
            delete_unless_read(path)
        else:
            path.unlink(missing_ok=True)


def delete_unless_read(path: Path, fd: int | None = None) -> bool:
    """Delete the snapshot `path` if no process holds it open; True if it is gone.

    An exclusive flock is granted only when no reader holds its shared one. `fd` is the
    caller's own open descriptor on it (its shared lock is converted), else one is opened.
    """
    own = fd is None
    if fd is None:
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        if own:
            os.close(fd)
        return False
    try:
        if os.stat(path).st_ino == os.fstat(fd).st_ino:  # not replaced under that name since
            path.unlink()
    except FileNotFoundError:
        pass
    finally:
        if own:
            os.close(fd)
    return True
