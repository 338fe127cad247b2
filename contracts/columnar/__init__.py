"""The columnar analytics engine: DuckDB over a per-version snapshot of the contracts.

`snapshot` builds, swaps and opens the snapshot files; `sql` turns chip filters into DuckDB
predicates with the same semantics as `contracts.filters`. The selectors use both, and fall
back to the database whenever no current snapshot is at hand.
"""

from .snapshot import build_after_commit, build_snapshot, columnar_or_database, snapshot_cursor

__all__ = ["build_after_commit", "build_snapshot", "columnar_or_database", "snapshot_cursor"]
