"""The columnar analytics engine: DuckDB over a per-version snapshot of the contracts.

`snapshot` builds and prunes the snapshot files; `serving` picks the one that answers (the
current version's, or while that builds the newest older one) and reports which version
answered; `sql` turns chip filters into DuckDB predicates with the same semantics as
`contracts.filters`. The selectors use them, and fall back to the database whenever no
snapshot of the data is at hand.
"""

from .serving import Answer, answering, columnar_or_database, current_snapshot_cursor, snapshot_cursor
from .snapshot import build_after_commit, build_snapshot

__all__ = [
    "Answer",
    "answering",
    "build_after_commit",
    "build_snapshot",
    "columnar_or_database",
    "current_snapshot_cursor",
    "snapshot_cursor",
]
