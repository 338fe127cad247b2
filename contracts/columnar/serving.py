"""Which snapshot answers a query, and letting go of old ones.

- **Current first.** A query is answered from the snapshot of the current dataset version.
- **Older while it builds.** While that one is missing (being built, or its build failed),
  the newest complete snapshot of an earlier version of the same data answers, and a
  background build is started; only a process that has no snapshot of this data at all
  asks the database. The answer then belongs to that earlier version: `answering()` reports
  which version answered, so that callers can say so and cache it as such.
- **One version per answer.** Each query takes a cursor on one snapshot file. Inside
  `answering()`, the first query pins its snapshot and every later one of the same answer
  (the pages of an export, say) uses it too, even if a newer one appears meanwhile.
- **Letting go.** Each process opens a snapshot once, read-only, and counts the cursors and
  answers using it. A snapshot is superseded once the process opens a newer one; the last
  user of a superseded snapshot closes it and deletes the file if no other process holds it
  (each holds a shared `flock` on the snapshots it has open; see `snapshot.prune`).
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import duckdb
from cachetools import LRUCache
from django.conf import settings

from .snapshot import (
    SUFFIX,
    current_key,
    delete_unless_read,
    duckdb_config,
    key_version,
    older_snapshots,
    snapshot_dir,
    start_background_build,
)

logger = logging.getLogger(__name__)
T = TypeVar("T")

# Look-ups remembered per open snapshot (see `memoized`): a few hundred bytes each at most.
MEMO_ENTRIES = 16384
_MISSING = object()


@dataclass(eq=False)
class _Snapshot:
    """One snapshot file this process has open, with a shared flock on `fd` while it does."""

    path: Path
    version: int
    connection: duckdb.DuckDBPyConnection
    fd: int
    users: int = 0
    superseded: bool = False
    # What its queries looked up in it (chip names to ids, ids to names): the file never changes.
    memo: LRUCache[Hashable, Any] = field(default_factory=lambda: LRUCache(maxsize=MEMO_ENTRIES))
    memo_lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass
class Answer:
    """Which dataset version answered the queries of one request or job.

    `version` is None while no query went to the columnar engine (it is off, or no data
    was ever loaded); `current` is the version the database held when they ran.
    """

    version: int | None = None
    current: int | None = None
    _pinned: _Snapshot | None = field(default=None, repr=False)

    @property
    def stale(self) -> bool:
        """Answered from an older version's snapshot while the current one is being built."""
        return self.version is not None and self.current is not None and self.version < self.current

    def _record(self, version: int, current: int) -> None:
        self.version = version if self.version is None else min(self.version, version)
        self.current = current if self.current is None else max(self.current, current)


_lock = threading.Lock()
_opened: dict[Path, _Snapshot] = {}
_answer: ContextVar[Answer | None] = ContextVar("columnar_answer", default=None)
# The snapshot the cursor in use reads (inside `_cursor`), for `memoized`.
_reading: ContextVar[_Snapshot | None] = ContextVar("columnar_reading", default=None)


def _forget_after_fork() -> None:
    """A forked child opens its own DuckDB instances; the parent's stay the parent's.

    Its copies of the parent's lock descriptors are closed: a shared flock lasts while any
    descriptor of it is open, and would keep the parent's old snapshots from being deleted.
    """
    global _lock
    for snapshot in _opened.values():
        os.close(snapshot.fd)
    _opened.clear()
    _lock = threading.Lock()


os.register_at_fork(after_in_child=_forget_after_fork)


@contextmanager
def answering() -> Iterator[Answer]:
    """Scope of one answer: its queries share one snapshot; the Answer says which version."""
    answer = Answer()
    token = _answer.set(answer)
    try:
        yield answer
    finally:
        _answer.reset(token)
        if answer._pinned is not None:
            _release(answer._pinned)


@contextmanager
def snapshot_cursor() -> Iterator[duckdb.DuckDBPyConnection | None]:
    """A DuckDB cursor on the snapshot that answers now (see the module), or None: ask the database."""
    with _cursor() as (cursor, _version, _current):
        yield cursor


@contextmanager
def current_snapshot_cursor() -> Iterator[duckdb.DuckDBPyConnection | None]:
    """A cursor on the current version's snapshot, or None (the database answers): for a
    reader that writes the current data and holds the cursor while it writes, for as long as
    that takes (the rows of an export, fetched a batch at a time between writes).

    Unlike `snapshot_cursor`, an older version's snapshot never answers, and no context
    variable is set for the cursor's lifetime, so the caller may be a generator suspended
    between rows: the look-ups it makes are simply not remembered (see `memoized`).
    """
    with _cursor(remembering=False) as (cursor, version, current):
        if cursor is None or version is None or current is None or version < current:
            yield None
            return
        if (answer := _answer.get()) is not None:
            answer._record(version, current)
        yield cursor


def memoized(key: Hashable, compute: Callable[[], T]) -> T:
    """`compute()`, remembered for the snapshot being read: for look-ups that depend on its
    data alone (a snapshot never changes), such as the ids a chip names, which cost a scan of
    an entity table (a millisecond or two) that every later request with that chip skips.
    Outside a snapshot cursor, computed each time."""
    found = recall([key])
    if key in found:
        return found[key]
    value = compute()
    remember({key: value})
    return value


def recall(keys: Iterable[Hashable]) -> dict[Hashable, Any]:
    """Those of `keys` the snapshot being read remembers (see `memoized`), with their values."""
    snapshot = _reading.get()
    if snapshot is None:
        return {}
    found: dict[Hashable, Any] = {}
    with snapshot.memo_lock:
        for key in keys:
            value = snapshot.memo.get(key, _MISSING)
            if value is not _MISSING:
                found[key] = value
    return found


def remember(values: Mapping[Hashable, Any]) -> None:
    """Have the snapshot being read remember `values` (nothing outside a snapshot cursor)."""
    snapshot = _reading.get()
    if snapshot is not None:
        with snapshot.memo_lock:
            snapshot.memo.update(values)


def columnar_or_database(
    columnar: Callable[[duckdb.DuckDBPyConnection], T],
    database: Callable[[], T],
    *,
    current_only: bool = False,
) -> T:
    """`columnar(cursor)` on the answering snapshot if there is one, else (or if it fails) `database()`.

    With `current_only`, an older version's snapshot (answering while the current one
    builds) does not count: the database answers instead."""
    answer = _answer.get()
    with _cursor() as (cursor, version, current):
        usable = cursor is not None and version is not None and current is not None
        if usable and not (current_only and version < current):
            try:
                result = columnar(cursor)
            except duckdb.Error:  # e.g. out of memory under COLUMNAR_MEMORY_LIMIT
                logger.exception("columnar query failed; the database answers instead")
            else:
                if answer is not None:
                    answer._record(version, current)
                return result
    result = database()
    if answer is not None and current is not None:
        answer._record(current, current)
    return result


@contextmanager
def _cursor(
    *, remembering: bool = True
) -> Iterator[tuple[duckdb.DuckDBPyConnection | None, int | None, int | None]]:
    """(cursor or None, the version it reads, the current version; None when unknown).

    ``remembering``: `memoized` look-ups made meanwhile are kept with the snapshot (a
    context variable names it while the cursor is held)."""
    if not settings.COLUMNAR_ENABLED:
        yield None, None, None
        return
    key = current_key()
    if key is None:
        yield None, None, None
        return
    current = key_version(key)
    snapshot = _acquire(key)
    if snapshot is None:
        yield None, None, current
        return
    token = _reading.set(snapshot) if remembering else None
    try:
        cursor = snapshot.connection.cursor()
        try:
            yield cursor, snapshot.version, current
        finally:
            cursor.close()
    finally:
        if token is not None:
            _reading.reset(token)
        _release(snapshot)


def _acquire(key: str) -> _Snapshot | None:
    """The snapshot to read for `key` (one more user of it), or None; starts a build if it is missing."""
    answer = _answer.get()
    if answer is not None and answer._pinned is not None:
        with _lock:
            answer._pinned.users += 1
        return answer._pinned
    directory = snapshot_dir()
    wanted = directory / f"{key}{SUFFIX}"
    missing = False
    chosen: _Snapshot | None = None
    with _lock:
        for _attempt in range(3):  # a file chosen may be deleted before it is opened: choose again
            if wanted in _opened or wanted.exists():
                path: Path | None = wanted
            else:
                missing = True
                # Open ones count even if deleted from the directory since: their file lives on.
                still_open = (p for p in _opened if _older(p, key))
                candidates = sorted({*older_snapshots(directory, key), *still_open}, key=_version_of)
                path = candidates[-1] if candidates else None
            if path is None:
                break
            chosen = _opened.get(path) or _open(path)
            if chosen is not None:
                break
        if chosen is not None:
            chosen.users += 1
            if answer is not None:
                chosen.users += 1  # the answer's own hold, released when it ends
                answer._pinned = chosen
            for other in list(_opened.values()):
                if other is not chosen:  # older than the chosen one, or of data gone since
                    other.superseded = True
                    if other.users == 0:
                        _close(other)
    if missing:
        start_background_build(key)
    return chosen


def _older(path: Path, key: str) -> bool:
    """An open snapshot (perhaps deleted from the directory since) of an earlier version of `key`'s data."""
    line = key.rsplit("-v", 1)[0]
    return path.stem.startswith(f"{line}-v") and _version_of(path) < key_version(key)


def _version_of(path: Path) -> int:
    return key_version(path.stem)


def _open(path: Path) -> _Snapshot | None:
    """Open `path` read-only under a shared flock; None if it is gone or unreadable."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)  # refused only while a pruner deletes it
        if os.stat(path).st_ino != os.fstat(fd).st_ino:
            raise FileNotFoundError(path)
        connection = duckdb.connect(str(path), read_only=True, config=duckdb_config())
    except (OSError, duckdb.Error):  # deleted since, or half-written by a foreign tool
        logger.warning("could not open columnar snapshot %s", path, exc_info=True)
        os.close(fd)
        return None
    snapshot = _Snapshot(path=path, version=_version_of(path), connection=connection, fd=fd)
    _opened[path] = snapshot
    return snapshot


def _release(snapshot: _Snapshot) -> None:
    with _lock:
        snapshot.users -= 1
        if snapshot.users == 0 and snapshot.superseded:
            _close(snapshot)


def _close(snapshot: _Snapshot) -> None:
    """Close a superseded snapshot nobody here uses; delete its file if nobody else has it open."""
    if _opened.get(snapshot.path) is snapshot:
        del _opened[snapshot.path]
    snapshot.connection.close()
    try:
        delete_unless_read(snapshot.path, snapshot.fd)
    finally:
        os.close(snapshot.fd)


def open_snapshots() -> dict[str, int]:
    """The snapshot files this process has open, with how many queries and answers use each."""
    with _lock:
        return {path.name: snapshot.users for path, snapshot in _opened.items()}
