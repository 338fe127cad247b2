"""The Celery application, configured from Django settings under the CELERY_ namespace."""

import os

from celery import Celery
from celery.signals import beat_init, worker_process_init

from config.garbage_collection import freeze_startup_objects

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

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
