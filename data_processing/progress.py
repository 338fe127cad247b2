"""The one place that turns work done into progress: monotonic, saved and rate-limited.

A job calls its reporter with (done, total, message) as often as it likes; the reporter
writes and publishes only when the percentage grows and at most every
``JOB_PROGRESS_MIN_INTERVAL`` seconds, so a fast job cannot flood Redis or the channel
layer. The STARTED update that the claim sent counts as the first of them: a job done
within the interval goes from STARTED to SUCCESS with no progress write in between.
100 % is reserved for success, which the job service reports itself.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.db import OperationalError
from django.utils import timezone

from . import events, job_rows
from .exceptions import JobCancelled
from .models import RUNNING_STATES, Job, JobState
from .selectors import job_revoked


def percent_done(done: int, total: int) -> int:
    """Whole percent of work done, capped at 99 until the result is actually stored."""
    if total <= 0:
        return 0
    return max(0, min(99, done * 100 // total))


def _sqlite_busy(exc: OperationalError) -> bool:
    """SQLite (write-ahead log) refused the write. A connection that is still reading (an
    export streaming its rows) cannot write once another process has committed since its
    read began (SQLITE_BUSY_SNAPSHOT), and while another holds the write lock it is told
    busy at once rather than wait, since waiting could deadlock (SQLITE_BUSY; also what
    any connection gets once the busy timeout runs out)."""
    return getattr(exc.__cause__, "sqlite_errorname", None) in ("SQLITE_BUSY", "SQLITE_BUSY_SNAPSHOT")


class ProgressReporter:
    def __init__(self, job: Job, *, min_interval: float | None = None) -> None:
        """Made right after the claim announced the job as started."""
        self.job = job
        self.min_interval = settings.JOB_PROGRESS_MIN_INTERVAL if min_interval is None else min_interval
        self._sent_percent = job.progress
        self._sent_at = time.monotonic()

    def __call__(self, done: int, total: int, message: str = "") -> None:
        percent = percent_done(done, total)
        now = time.monotonic()
        if percent <= self._sent_percent or now - self._sent_at < self.min_interval:
            return
        changes = {
            "state": JobState.PROGRESS,
            "progress": percent,
            "message": message[:255],
            "updated_at": timezone.now(),
        }
        try:
            updated = job_rows.transition(
                self.job.id, states=RUNNING_STATES, changes=changes, progress_below=percent
            )
        except OperationalError as exc:
            if not _sqlite_busy(exc):
                raise
            return  # skipped, not failed: progress can wait; the job's last writes follow its read
        if updated is None:
            if job_revoked(self.job.id):
                raise JobCancelled(str(self.job.id))
            return
        self._sent_percent, self._sent_at = percent, now
        self.job = updated
        events.announce_job(updated)
