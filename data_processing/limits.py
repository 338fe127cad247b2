"""What one user may have at once: active jobs, running exports, stored export bytes.

Checked at submit, only when a new job would be queued (a cached answer or joining an
identical job costs nothing). The caller holds the owner's row lock, so concurrent submits
by one user are counted one after another and cannot overshoot a limit together.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from . import job_rows
from .exceptions import ExportStorageFull, TooManyActiveJobs
from .exports import export_directory
from .models import Job, JobState
from .registry import JobKindSpec, job_kinds


def job_limits_check(*, owner: AbstractBaseUser, spec: JobKindSpec) -> None:
    """Raise the API error naming the limit a new job of this kind would break, if any."""
    job_rows.lock_owner(owner.pk)
    export_kinds = [kind.name for kind in job_kinds() if kind.writes_file] if spec.writes_file else []
    active, active_exports = job_rows.count_active(owner.pk, export_kinds)
    counted = [("active_jobs", "JOB_MAX_ACTIVE_PER_USER", "jobs", active)]
    if spec.writes_file:
        counted.append(("active_exports", "JOB_MAX_ACTIVE_EXPORTS_PER_USER", "exports", active_exports))
    for name, setting, noun, count in counted:
        limit = getattr(settings, setting)
        if count >= limit:
            raise TooManyActiveJobs(
                f"You have {count} {noun} queued or running, the most allowed at once "
                f"({setting}={limit}). Submit again when one finishes, or cancel one.",
                headers={"Retry-After": "5"},
                extra={"limit": name, "max": limit},
            )
    if spec.writes_file:
        _export_storage_check(owner)


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
