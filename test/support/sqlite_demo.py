"""Environment for running `manage.py` on `make run`'s default database, a SQLite file of a test's own."""

from __future__ import annotations

import os
from pathlib import Path


def sqlite_demo_env(tmp_path: Path) -> dict[str, str]:
    """Local settings on ``tmp_path/db.sqlite3``; no worker, so snapshots are built in-process."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "COLUMNAR_DIR": str(tmp_path / "columnar"),
        "MEDIA_ROOT": str(tmp_path / "media"),
        "LOG_LEVEL": "WARNING",
        # No worker here: generate builds the snapshot itself (as when no broker answers).
        "COLUMNAR_BUILD_IN_WORKER": "false",
    }
