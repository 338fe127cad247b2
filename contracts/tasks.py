"""Celery tasks of the contracts app: thin wrappers around the services."""

from __future__ import annotations

from celery import shared_task

from .columnar import build_snapshot
from .indexes import build_deferred_indexes


@shared_task(name="contracts.build_columnar_snapshot", ignore_result=True)
def build_columnar_snapshot_task() -> None:
    """The snapshot of the current dataset version, queued after an import or generate commits.

    Waits for a build another process holds (it may be of an older version); a build that
    finds the snapshot already there returns at once.
    """
    build_snapshot(wait=True)


@shared_task(name="contracts.build_deferred_indexes", ignore_result=True)
def build_deferred_indexes_task() -> None:
    """The trigram index a bulk import left to build, CONCURRENTLY, queued after its commit.

    Returns at once when nothing is missing, or while another bulk load runs (that load
    queues this again when it ends).
    """
    build_deferred_indexes()
