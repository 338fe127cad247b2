"""UPPER() on SQLite as PostgreSQL has it: for every letter, not only A to Z.

Chips match names and titles by ``UPPER(column)`` against the chip upper-cased in Python.
SQLite's built-in UPPER changes ASCII letters only, so on `make run`'s default database
"Santo Niño" became "SANTO NIñO" and no chip could ever select it, not even by its exact
name, while the columnar engine (DuckDB's upper) found it. Every SQLite connection Django
opens gets this function in the built-in's place; it is deterministic, so the indexes on
``UPPER(name)`` keep working (migration 0006 rebuilt the ones the built-in had filled, 0007
those filled before this function mapped the Greek letters with a subscript iota).
"""

from __future__ import annotations

from typing import Any


def upper_simple(value: str) -> str:
    """Each character upper-cased on its own, as PostgreSQL's UPPER does in a UTF-8 locale.

    Python's ``str.upper`` applies Unicode's full case mapping, which turns one character
    into several ("ß" into "SS"); PostgreSQL maps a character to one character or leaves it.
    Checked against PostgreSQL (C.UTF-8) for every code point below U+30000.
    """
    upper = value.upper()
    if len(upper) == len(value):  # no character became several
        return upper
    return "".join(_simple_upper(c) for c in value)


def _simple_upper(char: str) -> str:
    # Of the 102 characters whose full upper case is several, 27 (Greek with a subscript
    # iota, "ᾳ") have a one-character simple mapping, which is their title case; the rest
    # ("ß", "ﬁ", "ŉ") map to themselves.
    for candidate in (char.upper(), char.title()):
        if len(candidate) == 1:
            return candidate
    return char


def _sqlite_upper(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return upper_simple(str(value))


def install_on_sqlite(sender: Any, connection: Any, **kwargs: Any) -> None:
    """A ``connection_created`` receiver for SQLite's connections only (connected with the
    SQLite backend as sender, so PostgreSQL's pooled connections never call it): replace
    SQLite's ASCII-only UPPER on a new connection."""
    connection.connection.create_function("UPPER", 1, _sqlite_upper, deterministic=True)
