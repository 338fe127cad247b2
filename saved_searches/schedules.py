"""Each saved search's beat entry: a django-celery-beat PeriodicTask that runs it.

Beat's DatabaseScheduler notices every save or delete of a PeriodicTask (its signals mark
the schedule changed), so creating, editing and deleting here is all a schedule takes.
"""

from __future__ import annotations

import itertools
import json
from datetime import datetime

from celery.schedules import crontab as celery_crontab
from django.conf import settings
from django.utils import timezone
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from .models import RunTrigger, SavedSearch

RUN_TASK_NAME = "saved_searches.run"
CRONTAB_FIELDS = ("minute", "hour", "day_of_month", "month_of_year", "day_of_week")


def crontab_fields(expression: str) -> dict[str, str]:
    """ "m h dom mon dow" → CrontabSchedule's fields; ValueError when it is not a crontab."""
    parts = expression.split()
    if len(parts) != len(CRONTAB_FIELDS):
        raise ValueError("a crontab has five fields: minute hour day-of-month month day-of-week")
    fields = dict(zip(CRONTAB_FIELDS, parts, strict=True))
    schedule = celery_crontab(**fields)  # raises ValueError on a field it cannot parse
    minutes = sorted(schedule.minute)
    # The shortest gap between two runs within an hour (and across the hour boundary).
    gaps = [b - a for a, b in itertools.pairwise(minutes)] + [60 - minutes[-1] + minutes[0]]
    if min(gaps) * 60 < settings.SAVED_SEARCH_MIN_INTERVAL_SECONDS:
        raise ValueError(f"runs may be at most one every {settings.SAVED_SEARCH_MIN_INTERVAL_SECONDS} s")
    return fields


def periodic_task_sync(saved_search: SavedSearch) -> None:
    """Give the saved search the beat entry its schedule asks for, or none."""
    task = saved_search.periodic_task
    if not saved_search.every_seconds and not saved_search.crontab:
        if task is not None:
            saved_search.periodic_task = None
            saved_search.save(update_fields=["periodic_task"])
            task.delete()
        return
    interval = crontab = None
    if saved_search.every_seconds:
        interval = IntervalSchedule.objects.filter(
            every=saved_search.every_seconds, period=IntervalSchedule.SECONDS
        ).first() or IntervalSchedule.objects.create(
            every=saved_search.every_seconds, period=IntervalSchedule.SECONDS
        )
    else:
        fields = crontab_fields(saved_search.crontab)
        crontab = CrontabSchedule.objects.filter(**fields, timezone=settings.TIME_ZONE).first()
        crontab = crontab or CrontabSchedule.objects.create(**fields, timezone=settings.TIME_ZONE)
    if task is None:
        task = PeriodicTask(name=f"saved-search-{saved_search.id}")
    task.task = RUN_TASK_NAME
    task.args = json.dumps([saved_search.id])
    task.kwargs = json.dumps({"trigger": RunTrigger.SCHEDULE})
    task.interval, task.crontab = interval, crontab
    task.enabled = True
    task.description = f"Saved search {saved_search.name!r} of user {saved_search.owner_id}"
    task.save()  # save(), not update(): its signal tells beat the schedule changed
    if saved_search.periodic_task_id != task.id:
        saved_search.periodic_task = task
        saved_search.save(update_fields=["periodic_task"])


def next_scheduled_run(task: PeriodicTask | None) -> datetime | None:
    """When beat will next run the entry (as beat reckons it: from its last run)."""
    if task is None or not task.enabled:
        return None
    now = timezone.now()
    last = task.last_run_at or task.date_changed or now
    return max(now, now + task.schedule.remaining_estimate(last))
