"""Reads of the job registry, always scoped to the caller: nobody sees another user's job."""

from __future__ import annotations

import statistics
import threading
import uuid
from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Any

from cachetools import TLRUCache, cached
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import F, QuerySet
from django.urls import get_script_prefix, reverse
from django.utils import timezone

from config.errors import ApplicationError

from . import result_cache
from .exceptions import JobFailed, JobNotFound, JobRevoked, ResultExpired, ResultNotReady
from .models import ACTIVE_STATES, RUNNING_STATES, Job, JobState
from .registry import canonical_kind, job_kind, job_kinds

if TYPE_CHECKING:
    from .job_state import JobSnapshot

TYPICAL_DURATION_SAMPLE = 50
TYPICAL_DURATION_CACHE_SECONDS = 60
# "No estimate yet" (no job of the kind has finished) is remembered only briefly: on a fresh
# stack the first jobs finish within seconds, and until the estimate is known every ETA is
# null and the active-job cap's 429 asks for its flat fallback wait.
TYPICAL_DURATION_UNKNOWN_CACHE_SECONDS = 5


def _typical_duration_expiry(_kind: str, seconds: float | None, now: float) -> float:
    known = seconds is not None
    return now + (TYPICAL_DURATION_CACHE_SECONDS if known else TYPICAL_DURATION_UNKNOWN_CACHE_SECONDS)


def job_get_for_owner(*, owner: AbstractBaseUser, job_id: uuid.UUID | str) -> Job:
    """The caller's job; another user's job is "not found", so ids reveal nothing."""
    job = Job.objects.filter(id=job_id, owner=owner).first()
    if job is None:
        raise JobNotFound("No job with this task_id.")
    return job


def job_revoked(job_id: uuid.UUID | str) -> bool:
    """Whether a cancel ended the job (its row says REVOKED)."""
    return Job.objects.filter(id=job_id, state=JobState.REVOKED).exists()


def job_list_for_owner(
    *, owner: AbstractBaseUser, state: str | None = None, kind: str | None = None
) -> QuerySet[Job]:
    jobs = Job.objects.filter(owner=owner)
    if state:
        jobs = jobs.filter(state=state)
    if kind:
        jobs = jobs.filter(kind=kind)
    return jobs.order_by("-created_at")


def job_latest_for_cache_key(*, owner: AbstractBaseUser, cache_key: str) -> Job:
    job = Job.objects.filter(owner=owner, cache_key=cache_key).order_by("-created_at").first()
    if job is None:
        raise JobNotFound("No job of yours has this cache_key.")
    return job


def job_result(*, owner: AbstractBaseUser, cache_key: str) -> dict[str, Any]:
    """The caller's result under ``cache_key``, or the named exception saying why it is not
    there: still running, failed, cancelled, or expired from the cache."""
    job = job_latest_for_cache_key(owner=owner, cache_key=cache_key)
    data = result_cache.result_get(cache_key)
    if data is not None:
        return {"status": "success", "cache_key": cache_key, "data": data}
    raise result_unavailable(job)


def result_unavailable(job: Job | JobSnapshot) -> ApplicationError:
    """Why a job's result is not in the cache: still running, failed, cancelled, or expired."""
    task = {"task_id": str(job.id)}
    if job.state in ACTIVE_STATES:
        return ResultNotReady(
            "Result not available yet; the job is still running.",
            extra={**task, "state": job.state, "progress": job.progress},
            headers={"Retry-After": "1"},
        )
    if job.state == JobState.FAILURE:
        return JobFailed("The job failed.", extra={**task, "error": job.error})
    if job.state == JobState.REVOKED:
        return JobRevoked("The job was cancelled.", extra=task)
    return ResultExpired(
        f"The result expired (results are kept up to {settings.RESULT_CACHE_TIMEOUT} s, less when the "
        "cache is full); submit the request again.",
        extra=task,
    )


@cached(TLRUCache(maxsize=64, ttu=_typical_duration_expiry), lock=threading.Lock())
def typical_duration_seconds(kind: str) -> float | None:
    """Median run time of recent successful jobs of a kind (cache hits excluded), or None.

    Kept per process for a minute (an unknown one for seconds): an ETA is an estimate, and
    one indexed query a minute per process costs less than a shared-cache round trip on
    every submit and poll."""
    recent = (
        Job.objects.filter(kind=kind, state=JobState.SUCCESS, completed_at__gt=F("started_at"))
        .order_by("-completed_at")
        .values_list("started_at", "completed_at")[:TYPICAL_DURATION_SAMPLE]
    )
    durations = [(done - start).total_seconds() for start, done in recent]
    return statistics.median(durations) if durations else None


def typical_duration_known(kind: str) -> tuple[bool, float | None]:
    """Whether this process holds the kind's typical run time, and the value: lets an async
    view skip the thread hop that computing it would take."""
    memo = typical_duration_seconds
    with memo.cache_lock:
        key = memo.cache_key(kind)
        return (True, memo.cache[key]) if key in memo.cache else (False, None)


def job_eta_seconds(
    job: Job | JobSnapshot, typical_duration: Callable[[str], float | None] = typical_duration_seconds
) -> int | None:
    """Seconds until the job is likely done: from its own pace once it has made progress,
    otherwise from how long jobs of its kind have taken lately (``typical_duration``)."""
    if job.state not in ACTIVE_STATES:
        return None
    elapsed = (timezone.now() - job.started_at).total_seconds() if job.started_at else 0.0
    if job.state in RUNNING_STATES and job.progress >= 5 and elapsed > 0:
        return round(elapsed * (100 - job.progress) / job.progress)
    typical = typical_duration(job.kind)
    if typical is None:
        return None
    return max(0, round(typical - elapsed))


def job_status(
    job: Job | JobSnapshot, typical_duration: Callable[[str], float | None] = typical_duration_seconds
) -> dict[str, Any]:
    """A job's status document (state, progress, error, cache key), plus links and an ETA;
    from the row or its Redis mirror (async callers pass a ``typical_duration`` that does
    not query)."""
    download_url = None
    if job_writes_file(job) and job.state == JobState.SUCCESS:
        download_url = reverse("job-download", args=[job.id])
    return {
        "task_id": str(job.id),
        "kind": job.kind,
        "state": job.state,
        "status": job.message,
        "progress": job.progress,
        "meta": {"progress": job.progress},
        "cache_key": job.cache_key,
        "error": job.error or None,
        "attempts": job.attempts,
        "created_at": job.created_at,
        "started_at": job.started_at,
        "completed_at": job.completed_at,
        "eta_seconds": job_eta_seconds(job, typical_duration),
        "status_url": f"{route('job-status')}?task_id={job.id}",
        "result_url": f"{route('job-result')}?cache_key={job.cache_key}",
        "download_url": download_url,
    }


def route(name: str) -> str:
    """The path of a route without arguments; resolved once per script prefix, as every
    status document names two of them (``reverse`` costs more than the rest of one)."""
    return _route(name, get_script_prefix())


@cache
def _route(name: str, prefix: str) -> str:
    del prefix  # the cache key: reverse() prepends the current one
    return reverse(name)


def job_writes_file(job: Job) -> bool:
    """Whether the job's kind leaves a file to download (False for a kind no longer declared)."""
    kind = canonical_kind(job.kind)
    return kind is not None and job_kind(kind).writes_file


def job_kinds_catalogue() -> list[dict[str, Any]]:
    """Every job kind with its label and submit URL: what the dashboard and clients read."""
    return [
        {
            "kind": spec.name,
            "label": spec.label,
            "submit_url": reverse(f"job-submit-{spec.slug}"),
            "aliases": list(spec.name_aliases),
        }
        for spec in job_kinds()
    ]
