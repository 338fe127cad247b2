"""Celery tasks of saved searches: thin wrappers that take ids and call the services.

Beat's entries (one per scheduled saved search) name ``saved_searches.run``.
"""

from __future__ import annotations

import logging

from celery import Task, shared_task
from django.db import InterfaceError, OperationalError
from rest_framework.exceptions import ValidationError

from config.errors import ApplicationError

from . import services

logger = logging.getLogger(__name__)


@shared_task(
    name="saved_searches.run",
    ignore_result=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    max_retries=2,
    # A firing whose worker dies mid-run goes back to the queue rather than being lost: the
    # run is one transaction, so the dead attempt left nothing behind to run twice.
    acks_late=True,
    reject_on_worker_lost=True,
    bind=True,
)
def run_saved_search_task(self: Task, saved_search_id: int, trigger: str = "schedule") -> int | None:
    """Run one saved search; returns the run's id (None when the search was deleted).

    The message's id names the firing, so a message delivered twice records one run.
    """
    try:
        run = services.saved_search_run(
            saved_search_id=saved_search_id, trigger=trigger, firing=self.request.id or ""
        )
    except ValidationError:
        # Saved by an older release and no longer valid: retrying cannot help.
        logger.warning("Saved search %s no longer validates; not run", saved_search_id)
        return None
    except ApplicationError as exc:
        # The owner may not submit now (at a limit of theirs): the next firing tries again.
        logger.warning("Saved search %s not run: %s", saved_search_id, exc.message)
        return None
    return run.id if run else None


@shared_task(
    name="saved_searches.queue_after_import",
    ignore_result=True,
    # Queued again if its worker dies mid-way, so the searches not yet queued are not lost.
    # What it queued before the death (at most one window's runs, and the continuation if
    # the death came after it) is then queued twice, under the same firings: each search
    # still runs once.
    acks_late=True,
    reject_on_worker_lost=True,
)
def queue_after_import_task(search_ids: list[int] | None = None, version: int | None = None) -> int:
    """Fan out the after-import runs from a worker, not from the importing process; given
    ``search_ids``, queue the next window of an earlier fan-out's list."""
    return services.saved_searches_queue_after_import(search_ids, version=version)
