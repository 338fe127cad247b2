"""What saved searches do when the contracts change (queue the after-import runs) and when
one is deleted, however (its owner deleted it, or the owner was deleted): drop its beat entry."""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger(__name__)


def queue_runs_after_import(sender: Any, version: int, **kwargs: Any) -> None:
    """Receiver of contracts.signals.dataset_changed; never fails the import that sent it."""
    from .models import SavedSearch
    from .tasks import queue_after_import_task

    if not SavedSearch.objects.filter(run_after_import=True).exists():
        return  # no message to the broker for nothing (a fresh `make run` has no broker yet)
    try:
        queue_after_import_task.delay(version=version)
    except Exception as exc:
        # The data is imported either way; the searches still run at their own schedules.
        logger.warning(
            "Could not queue the saved searches after dataset v%s: %s", version, type(exc).__name__
        )


def delete_beat_entry(sender: Any, instance: Any, **kwargs: Any) -> None:
    """Receiver of post_delete for SavedSearch: beat must not keep running a deleted search."""
    if instance.periodic_task_id is not None:
        from django_celery_beat.models import PeriodicTask

        # delete() on the instance, not the queryset: its signal tells beat the schedule changed.
        for task in PeriodicTask.objects.filter(id=instance.periodic_task_id):
            task.delete()
