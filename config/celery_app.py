"""The Celery application, configured from Django settings under the CELERY_ namespace."""

import os

from celery import Celery
from celery.signals import beat_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("philgeps")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@beat_init.connect
def warm_default_results_on_start(sender: object, **kwargs: object) -> None:
    """Interval entries first run one interval after beat starts; the dashboard's default
    answers should be cached from the first minute, not the thirtieth."""
    app.send_task("data_processing.warm_default_results")
