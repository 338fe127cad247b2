"""One look-up in a cachetools cache, for the per-request memos of the hot path.

cachetools' ``get`` is a membership test followed by the look-up, and on a ``TTLCache`` each
checks the entry's expiry, and the pair runs inside the cache's timer context: 1.04 µs
against 0.34 for a single ``cache[key]``, which answers the same. A poll reads two such memos
(its token's user and its answer), where Django's own floor reads none.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import TypeVar

from cachetools import Cache

V = TypeVar("V")


def cached(cache: Cache[Hashable, V], key: Hashable) -> V | None:
    """The live entry for ``key``, or None (missing or expired), in one look-up."""
    try:
        return cache[key]
    except KeyError:
        return None
