"""Job life cycle: submit, claim, succeed, fail, cancel, and recover lost jobs.

Every transition is a conditional update on the job row (``filter(state__in=…).update``),
so two workers, a cancel and a sweeper can race without corrupting a job: whoever updates
zero rows lost and backs off. That is also what makes a task safe to run twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from celery import current_app
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from contracts.filters import ContractFilters
from contracts.models import DatasetVersion

from . import events, metrics, result_cache
from .cache_keys import cache_key_for, fingerprint_for
from .exceptions import IdempotencyKeyReused, JobAlreadyFinished
from .exports import export_directory
from .models import ACTIVE_STATES, RUNNING_STATES, Job, JobState
from .progress import ProgressReporter
from .registry import JobKindSpec, RunContext, job_kind, job_kinds

# The one Celery task that runs a job of any kind (``tasks.run_job_task``), sent by name:
# the task module imports this one, never the other way round.
RUN_JOB_TASK = "data_processing.run_job"

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Submission:
    """What a submit produced: a queued (or joined) job, or a result straight from cache."""

    job: Job
    cached_data: Any | None = None
    deduplicated: bool = False

    @property
    def is_cached(self) -> bool:
        return self.cached_data is not None


def job_submit(
    *, owner: AbstractBaseUser, kind: str, payload: Any, idempotency_key: str | None = None
) -> Submission:
    """Validate a request and answer it from cache, by joining an identical job, or by queueing one."""
    spec = job_kind(kind)
    params = spec.parse(payload)
    metrics.JOBS_SUBMITTED.labels(spec.name).inc()
    fingerprint = request_fingerprint(spec, params, owner=owner)

    if idempotency_key:
        replay = Job.objects.filter(owner=owner, idempotency_key=idempotency_key).first()
        if replay is not None:
            return _replay(replay, fingerprint)

    cache_key = cache_key_for(spec.prefix, fingerprint, DatasetVersion.current())
    fields = {
        "owner": owner,
        "kind": spec.name,
        "params": payload,  # as received and validated; the task parses it again
        "cache_key": cache_key,
        "fingerprint": fingerprint,
        "idempotency_key": idempotency_key or None,
    }

    cached = result_cache.result_get(cache_key)
    if cached is not None:
        # Paging back to a page already seen should not add a job each time: reuse the
        # caller's finished job for this answer. A record is needed only when they have none
        # (an answer warmed by beat or computed for someone else): it is what lets them read
        # the result by cache key later.
        # With an Idempotency-Key the answer needs a job carrying that key, so replays find it.
        if not idempotency_key:
            earlier = (
                Job.objects.filter(owner=owner, cache_key=cache_key, state=JobState.SUCCESS)
                .order_by("-created_at")
                .first()
            )
            if earlier is not None:
                return Submission(job=earlier, cached_data=cached)
        now = timezone.now()
        job = Job.objects.create(
            **fields,
            state=JobState.SUCCESS,
            progress=100,
            message="Served from the result cache.",
            started_at=now,
            completed_at=now,
        )
        return Submission(job=job, cached_data=cached)

    active = Job.objects.filter(owner=owner, cache_key=cache_key, state__in=ACTIVE_STATES).first()
    if active is not None:
        return Submission(job=active, deduplicated=True)

    try:
        with transaction.atomic():
            job = Job.objects.create(**fields, message=f"{spec.label} task has been queued.")
            # Enqueue only once the row is committed, or a fast worker could miss it.
            transaction.on_commit(lambda: job_enqueue(job))
    except IntegrityError:
        # An identical submission (or one with the same key) won the race for a unique
        # constraint: join it.
        raced = Q(cache_key=cache_key, state__in=ACTIVE_STATES)
        if idempotency_key:
            raced |= Q(idempotency_key=idempotency_key)
        winner = Job.objects.filter(raced, owner=owner).first()
        if winner is None:
            raise
        return _replay(winner, fingerprint) if idempotency_key else Submission(job=winner, deduplicated=True)
    return Submission(job=job)


def request_fingerprint(spec: JobKindSpec, params: dict[str, Any], *, owner: AbstractBaseUser | None) -> str:
    """Identity of a validated request; per user for kinds whose results are private."""
    canonical = {
        key: value.canonical() if isinstance(value, ContractFilters) else value
        for key, value in params.items()
    }
    if spec.per_user:
        canonical = {**canonical, "owner": owner.pk if owner else None}
    return fingerprint_for(spec.name, canonical)


def results_warm_defaults() -> list[str]:
    """Compute each kind's ``warm_payloads`` (what the dashboard asks for first) into the
    cache, so nobody waits for them; returns their cache keys."""
    version = DatasetVersion.current()
    keys = []
    for spec in job_kinds():
        for payload in spec.warm_payloads:
            params = spec.parse(payload)
            cache_key = cache_key_for(spec.prefix, request_fingerprint(spec, params, owner=None), version)
            result_cache.result_set(cache_key, spec.run(params))
            keys.append(cache_key)
    return keys


def _replay(job: Job, fingerprint: str) -> Submission:
    if job.fingerprint != fingerprint:
        raise IdempotencyKeyReused(
            "This Idempotency-Key was already used with a different request.",
            errors={"Idempotency-Key": ["Use a new key for a different request."]},
        )
    cached = result_cache.result_get(job.cache_key) if job.state == JobState.SUCCESS else None
    return Submission(job=job, cached_data=cached, deduplicated=True)


def job_enqueue(job: Job) -> bool:
    """Hand the job to the broker. If the broker is down the job stays PENDING and the
    sweeper (``jobs_recover``) queues it again later, so it is delayed, never lost."""
    try:
        # ignore_result: the job row is the record (see tasks.JobTask), so the web process
        # must not subscribe to a result channel nobody reads.
        current_app.send_task(
            RUN_JOB_TASK,
            args=[str(job.id)],
            task_id=str(job.id),
            queue=job_kind(job.kind).queue,
            ignore_result=True,
        )
    except Exception as exc:
        logger.warning("Could not queue job %s: broker unavailable (%s)", job.id, type(exc).__name__)
        Job.objects.filter(id=job.id, state=JobState.PENDING).update(
            message="Waiting for the task broker; the job will be queued when it is back.",
            updated_at=timezone.now(),
        )
        return False
    return True


def job_claim(job_id: str, *, redelivered: bool = False) -> Job | None:
    """Take a job for this worker; None if it is finished, cancelled or running elsewhere.

    A queued or retrying job is always claimable. A running one only when the broker says
    this delivery is a redelivery (its worker died) or its heartbeat is older than the hard
    time limit (no live run can be that quiet).
    """
    now = timezone.now()
    claimable = Q(state__in=(JobState.PENDING, JobState.RETRY))
    stale_before = now - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 60)
    if redelivered:
        claimable |= Q(state__in=RUNNING_STATES)
    else:
        claimable |= Q(state__in=RUNNING_STATES, updated_at__lt=stale_before)
    claimed = Job.objects.filter(claimable, id=job_id).update(
        state=JobState.STARTED,
        started_at=now,
        message="Started.",
        attempts=F("attempts") + 1,
        updated_at=now,
    )
    if not claimed:
        return None
    job = Job.objects.get(id=job_id)
    metrics.job_started(job)
    events.publish_job_update(job)
    return job


def job_run(job_id: str, *, redelivered: bool = False) -> None:
    """Run a job end to end: claim, compute (unless another job already cached the answer), store."""
    job = job_claim(job_id, redelivered=redelivered)
    if job is None:
        return
    spec = job_kind(job.kind)
    context = RunContext(job_id=str(job.id), on_progress=ProgressReporter(job))
    if not result_cache.result_exists(job.cache_key):
        data = spec.run(spec.parse(job.params), context)
        result_cache.result_set(job.cache_key, data)
    job_succeed(job, result_file=context.result_file)


def job_succeed(job: Job, *, result_file: str = "") -> None:
    now = timezone.now()
    file_field = {"result_file": result_file} if result_file else {}
    updated = Job.objects.filter(id=job.id, state__in=RUNNING_STATES).update(
        state=JobState.SUCCESS,
        progress=100,
        message="Complete.",
        error="",
        completed_at=now,
        updated_at=now,
        **file_field,
    )
    if updated:
        job.refresh_from_db()
        metrics.job_finished(job)
        events.publish_job_update(job)
    elif result_file:
        # Cancelled while finishing: still record the file, so the cleanup deletes it.
        Job.objects.filter(id=job.id).update(result_file=result_file)


def job_fail(job_id: str, error: str) -> None:
    """Mark a job failed with a message fit for the client (no internals, no secrets)."""
    now = timezone.now()
    updated = Job.objects.filter(id=job_id, state__in=ACTIVE_STATES).update(
        state=JobState.FAILURE, message="Failed.", error=error, completed_at=now, updated_at=now
    )
    if updated:
        job = Job.objects.get(id=job_id)
        metrics.job_finished(job)
        events.publish_job_update(job)


def job_mark_retry(job_id: str, reason: str) -> None:
    updated = Job.objects.filter(id=job_id, state__in=RUNNING_STATES).update(
        state=JobState.RETRY,
        message=f"Retrying after a transient error: {reason}.",
        updated_at=timezone.now(),
    )
    if updated:
        events.publish_job_update(Job.objects.get(id=job_id))


def job_cancel(*, job: Job) -> Job:
    """Cancel a queued or running job; its state becomes and stays REVOKED.

    The database row decides: a redelivered or late message finds REVOKED and does nothing,
    even if the broadcast revoke below never reaches a worker.
    """
    now = timezone.now()
    updated = Job.objects.filter(id=job.id, state__in=ACTIVE_STATES).update(
        state=JobState.REVOKED, message="Cancelled.", completed_at=now, updated_at=now
    )
    if not updated:
        job.refresh_from_db()
        raise JobAlreadyFinished(f"The job has already finished with state {job.state}; nothing to cancel.")
    try:
        current_app.control.revoke(str(job.id), terminate=True, signal="SIGTERM")
    except Exception as exc:
        logger.warning(
            "Revoke broadcast for job %s failed (%s); the job row already says REVOKED",
            job.id,
            type(exc).__name__,
        )
    job.refresh_from_db()
    events.publish_job_update(job)
    return job


def jobs_recover() -> int:
    """Queue again the jobs a fault left behind (broker down at submit, Redis restarted and
    lost its queue, a worker killed without redelivery); fail those waiting too long."""
    now = timezone.now()
    give_up_before = now - timedelta(seconds=settings.JOB_QUEUE_GIVE_UP_SECONDS)
    waiting = Job.objects.filter(state__in=(JobState.PENDING, JobState.RETRY))
    for job_id in waiting.filter(created_at__lt=give_up_before).values_list("id", flat=True):
        job_fail(str(job_id), "The job could not be started in time; please submit it again.")

    requeue_before = now - timedelta(seconds=settings.JOB_REQUEUE_AFTER_SECONDS)
    stale_before = now - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 60)
    lost = Job.objects.filter(
        Q(state__in=(JobState.PENDING, JobState.RETRY), updated_at__lt=requeue_before)
        | Q(state__in=RUNNING_STATES, updated_at__lt=stale_before)
    )
    count = 0
    for job in lost:
        Job.objects.filter(id=job.id).update(updated_at=now)
        count += job_enqueue(job)
    return count


def jobs_cleanup() -> tuple[int, int]:
    """Delete export files past the result lifetime and job records past the retention."""
    now = timezone.now()
    expired = Job.objects.filter(
        completed_at__lt=now - timedelta(seconds=settings.RESULT_CACHE_TIMEOUT)
    ).exclude(result_file="")
    files = 0
    for job in expired:
        path = export_directory() / Path(job.result_file).name
        path.unlink(missing_ok=True)
        files += 1
    expired.update(result_file="")
    deleted, _ = Job.objects.filter(
        completed_at__lt=now - timedelta(days=settings.JOB_RETENTION_DAYS)
    ).delete()
    return files, deleted
