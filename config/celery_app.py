"""The Celery application, configured from Django settings under the CELERY_ namespace."""

import logging
import os
from typing import Any

from celery import Celery, bootsteps
from celery.signals import beat_init, worker_process_init
from kombu.exceptions import OperationalError

from config.garbage_collection import freeze_startup_objects

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

logger = logging.getLogger(__name__)

app = Celery("philgeps")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@beat_init.connect
def warm_default_results_on_start(sender: object, **kwargs: object) -> None:
    """Interval entries first run one interval after beat starts; the dashboard's default
    answers should be cached from the first minute, not the thirtieth."""
    app.send_task("data_processing.warm_default_results")


@worker_process_init.connect
def freeze_after_fork(sender: object, **kwargs: object) -> None:
    """A pool process starts with everything its parent imported: keep it out of the
    collections that run between tasks (config/garbage_collection.py)."""
    freeze_startup_objects()


class SweepOnReconnect(bootsteps.StartStopStep):
    """A worker whose broker connection comes back asks for the recovery sweep at once.

    A Redis broker that restarted has lost its queue, and a submit made while the broker was
    down left its job waiting: the sweep queues both again, but beat runs it once a minute.
    Celery starts a consumer's steps again after every reconnection, so each ``start`` after
    the first is one. The sweep is sent as a task rather than run here, in the worker's main
    process, whose database connections its pool processes would inherit.
    """

    requires = ("celery.worker.consumer.tasks:Tasks",)

    def __init__(self, parent: Any, **kwargs: Any) -> None:
        super().__init__(parent, **kwargs)
        self.starts = 0

    def start(self, parent: Any) -> None:
        self.starts += 1
        if self.starts == 1:
            return
        try:
            parent.app.send_task("data_processing.recover_jobs")
        except OperationalError as exc:  # the broker went again: beat's sweep still comes
            logger.warning("Could not ask for a sweep after reconnecting (%s)", type(exc).__name__)


app.steps["consumer"].add(SweepOnReconnect)
