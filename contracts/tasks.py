"""Celery tasks of the contracts app: thin wrappers around the services."""

from __future__ import annotations

from celery import shared_task

from .columnar import build_snapshot


@shared_task(name="contracts.build_columnar_snapshot", ignore_result=True)
def build_columnar_snapshot_task() -> None:
    """The snapshot of the current dataset version, queued after an import or generate commits.

    Waits for a build another process holds (it may be of an older version); a build that
    finds the snapshot already there returns at once.
    """
    build_snapshot(wait=True)
