"""What one user may have at once: active jobs, running exports, stored export bytes.

Checked at submit, only when a new job would be queued (a cached answer or joining an
identical job costs nothing). Active jobs are looked up and counted under the owner's row
lock, in the statement that inserts the new job (``job_rows.insert_below_limits``), so
concurrent submits by one user are seen one after another and cannot overshoot a limit
together.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from . import job_rows
from .exceptions import ExportStorageFull, TooManyActiveJobs
from .exports import export_directory
from .models import ACTIVE_STATES, Job, JobState
from .registry import JobKindSpec, job_kinds
from .selectors import job_eta_seconds

# The wait a submit over an active-job limit is told (Retry-After): until the soonest of the
# owner's counted jobs is likely done, from the same estimate as a status's ETA; this long
# when none has one (no job of its kind finished lately). Never more than the most: a
# client then asks again, rather than sleep through a job that ends early. The web servers
# keep idle connections open longer than the most (config/gunicorn.py).
ACTIVE_JOBS_RETRY_AFTER_SECONDS = 5
ACTIVE_JOBS_RETRY_AFTER_MAX_SECONDS = 60


def job_insert_within_limits(job: Job, *, spec: JobKindSpec) -> Job | None:
    """Insert the new ``job`` of this kind unless its owner has an identical one queued or
    running, or raise the API error naming the limit it would break.

    Returns the job that now answers the request: ``job`` once inserted, or the owner's
    identical queued or running job, which is joined whatever the limits. None when a unique
    constraint kept it out all the same: an identical submit, or one with the same
    Idempotency-Key, committed first."""
    max_active = settings.JOB_MAX_ACTIVE_PER_USER
    max_exports = settings.JOB_MAX_ACTIVE_EXPORTS_PER_USER
    if not spec.writes_file:
        counted = job_rows.insert_below_limits(job, max_active=max_active)
    else:
        # An identical export already on its way is joined, however full the storage.
        twin = job_rows.active_for(job.owner_id, job.cache_key)
        if twin is not None:
            return twin
        # Outside the lock: only finished exports' files count, which no submit changes.
        _export_storage_check(job.owner)
        export_kinds = [kind.name for kind in job_kinds() if kind.writes_file]
        counted = job_rows.insert_below_limits(
            job, max_active=max_active, kinds=export_kinds, max_of_kinds=max_exports
        )
    if counted.inserted:
        return job
    if counted.twin is not None:
        return counted.twin
    if counted.duplicate:
        return None
    if counted.active >= max_active:
        wait = _soonest_finish_seconds(job.owner_id)
        raise _too_many("active_jobs", "JOB_MAX_ACTIVE_PER_USER", max_active, f"{counted.active} jobs", wait)
    exports = f"{counted.of_kinds} exports"
    wait = _soonest_finish_seconds(job.owner_id, kinds=export_kinds)
    raise _too_many("active_exports", "JOB_MAX_ACTIVE_EXPORTS_PER_USER", max_exports, exports, wait)


def _soonest_finish_seconds(owner_id: int, *, kinds: list[str] | None = None) -> int:
    """Seconds until the first of the owner's active jobs (of these kinds) is likely done,
    within 1 and the most a 429 asks for. Only on the refusal's path: one query."""
    active = Job.objects.filter(owner_id=owner_id, state__in=ACTIVE_STATES)
    if kinds is not None:
        active = active.filter(kind__in=kinds)
    estimates = [
        eta
        for job in active.only("kind", "state", "progress", "started_at")
        if (eta := job_eta_seconds(job)) is not None
    ]
    soonest = min(estimates, default=ACTIVE_JOBS_RETRY_AFTER_SECONDS)
    return min(max(soonest, 1), ACTIVE_JOBS_RETRY_AFTER_MAX_SECONDS)


def _too_many(name: str, setting: str, limit: int, counted: str, wait: int) -> TooManyActiveJobs:
    return TooManyActiveJobs(
        f"You have {counted} queued or running, the most allowed at once "
        f"({setting}={limit}). Submit again when one finishes (likely within {wait} s), or "
        "cancel one.",
        headers={"Retry-After": str(wait)},
        extra={"limit": name, "max": limit},
    )


def _export_storage_check(owner: AbstractBaseUser) -> None:
    limit = settings.JOB_EXPORT_MAX_BYTES_PER_USER
    stored = Job.objects.filter(owner=owner, state=JobState.SUCCESS).exclude(result_file="")
    directory = export_directory()
    total = 0
    oldest = None
    for name, completed_at in stored.order_by("completed_at").values_list("result_file", "completed_at"):
        path = directory / name
        if path.is_file():
            total += path.stat().st_size
            oldest = oldest or completed_at
    if total < limit or oldest is None:
        return
    frees_at = oldest + timedelta(seconds=settings.RESULT_CACHE_TIMEOUT)
    wait = max(1, int((frees_at - timezone.now()).total_seconds()))
    raise ExportStorageFull(
        f"Your stored export files take {total:,} bytes, the most allowed "
        f"(JOB_EXPORT_MAX_BYTES_PER_USER={limit:,}). The oldest expires at {frees_at.isoformat()} "
        f"(in {wait} s); download what you need and export again then.",
        headers={"Retry-After": str(wait)},
        extra={"limit": "export_bytes", "max": limit, "frees_at": frees_at.isoformat()},
    )
