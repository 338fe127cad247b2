"""Job life cycle: submit, claim, succeed, fail, cancel, and recover lost jobs.

Every transition is a conditional update on the job row (an UPDATE whose WHERE names the
states it may leave), so two workers, a cancel and a sweeper can race without corrupting a
job: whoever updates zero rows lost and backs off. That is also what makes a task safe to
run twice. The statements of the submit and run paths are in ``job_rows``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import redis
from celery import current_app
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from contracts.columnar import Answer, answering
from contracts.filters import ContractFilters
from contracts.models import DatasetVersion

from . import events, job_rows, job_state, live_workers, metrics, result_cache
from .cache_keys import cache_key_for, fingerprint_for
from .exceptions import IdempotencyKeyReused, JobAlreadyFinished
from .exports import export_directory, stray_files_remove
from .limits import job_insert_within_limits
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
        replay = any_one(Job.objects.filter(owner=owner, idempotency_key=idempotency_key))
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
        return _served_from_cache(fields, cached, fingerprint)

    job = Job(**fields, message=queued_message(spec))
    # Twice at most: the job that kept this one out may end before it is read.
    for _attempt in range(2):
        holder = job_insert_within_limits(job, spec=spec)
        if holder is job:
            # Enqueue only once the row is committed (at once, unless the caller holds a
            # transaction), or a fast worker could miss it.
            transaction.on_commit(lambda: _announce_new(job))
            return Submission(job=job)
        if holder is not None:  # the owner's identical job, queued or running: join it
            return Submission(job=holder, deduplicated=True)
        # An identical submit (or one with the same key) won the race for a unique
        # constraint: join it.
        held = Q(cache_key=cache_key, state__in=ACTIVE_STATES)
        if idempotency_key:
            held |= Q(idempotency_key=idempotency_key)
        holder = Job.objects.filter(held, owner=owner).first()
        if holder is not None and idempotency_key:
            return _replay(holder, fingerprint)
        if holder is not None:
            return Submission(job=holder, deduplicated=True)
        # It ended between the insert and the read, and so has most likely cached this answer.
        cached = result_cache.result_get(cache_key)
        if cached is not None:
            return _served_from_cache(fields, cached, fingerprint)
    raise IntegrityError(f"job {job.id} was kept out by a unique constraint whose holder kept ending")


def _served_from_cache(fields: dict[str, Any], cached: Any, fingerprint: str) -> Submission:
    """A submit answered by the result cache, with the job record that lets its owner read
    the answer by cache key later."""
    owner, cache_key, idempotency_key = fields["owner"], fields["cache_key"], fields["idempotency_key"]
    # Paging back to a page already seen should not add a job each time: reuse the caller's
    # finished job for this answer. A record is needed only when they have none (an answer
    # warmed by beat or computed for someone else).
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
    try:
        with transaction.atomic():
            job = Job.objects.create(
                **fields,
                state=JobState.SUCCESS,
                progress=100,
                message="Served from the result cache.",
                started_at=now,
                completed_at=now,
            )
    except IntegrityError:
        # A concurrent submit with the same Idempotency-Key recorded it first: replay it.
        winner = Job.objects.filter(owner=owner, idempotency_key=idempotency_key).first()
        if winner is None:
            raise
        return _replay(winner, fingerprint)
    job_state.mirror_job(job, newest=True)
    return Submission(job=job, cached_data=cached)


def any_one(queryset: QuerySet[Job]) -> Job | None:
    """The one row a unique constraint allows, if any: ``first()`` without its ORDER BY,
    whose compilation cost more CPU than the query itself on the submit path."""
    return next(iter(queryset.order_by()[:1]), None)


def queued_message(spec: JobKindSpec) -> str:
    return f"{spec.label} task has been queued."


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
            with answering() as answer:
                data = spec.run(params)
            if answer.stale:  # an older version's answer; the next run warms the current one
                continue
            result_cache.result_set(cache_key, data)
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


# What a job says while the broker refused it; the sweeper queues such jobs at its next run.
BROKER_WAIT_MESSAGE = "Waiting for the task broker; the job will be queued when it is back."


def _announce_new(job: Job) -> None:
    # The broker first: the worker can start while the mirror is written, and the mirror
    # never goes back in time if the worker's own update lands before this one.
    job_enqueue(job)
    job_state.mirror_job(job, newest=True)


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
        now = timezone.now()
        if Job.objects.filter(id=job.id, state__in=(JobState.PENDING, JobState.RETRY)).update(
            message=BROKER_WAIT_MESSAGE, updated_at=now
        ):
            job.message, job.updated_at = BROKER_WAIT_MESSAGE, now
            job_state.mirror_job(job)
        return False
    return True


def job_claim(job_id: str, *, redelivered: bool = False) -> Job | None:
    """Take a job for this worker; None if it is finished, cancelled or running elsewhere.

    A queued or retrying job is always claimable. A running one only when the broker says
    this delivery is a redelivery (its worker died) or its heartbeat is older than the hard
    time limit (no live run can be that quiet).
    """
    now = timezone.now()
    queued = (JobState.PENDING, JobState.RETRY)
    job = job_rows.transition(
        job_id,
        states=(*queued, *RUNNING_STATES) if redelivered else queued,
        quiet_states=() if redelivered else RUNNING_STATES,
        quiet_before=now - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 60),
        max_attempts=settings.JOB_MAX_ATTEMPTS,
        changes={"state": JobState.STARTED, "started_at": now, "message": "Started.", "updated_at": now},
        count_attempt=True,
    )
    if job is None:
        # A job whose every attempt so far ended with its process dying would die again.
        if Job.objects.filter(id=job_id, state__in=ACTIVE_STATES, attempts__gte=settings.JOB_MAX_ATTEMPTS):
            job_fail(job_id, attempts_exhausted_error())
        return None
    metrics.job_started(job)
    events.announce_job(job)
    return job


def attempts_exhausted_error() -> str:
    return (
        f"The job was started {settings.JOB_MAX_ATTEMPTS} times and its worker process stopped "
        "every time (out of memory, or killed); it will not be tried again."
    )


def job_run(job_id: str, *, redelivered: bool = False) -> None:
    """Run a job end to end: claim, compute (unless another job already cached the answer), store."""
    job = job_claim(job_id, redelivered=redelivered)
    if job is not None:
        job_execute(job)


def job_execute(job: Job) -> None:
    """Compute a job this worker has claimed (unless another job already cached the
    answer), and store its answer."""
    spec = job_kind(job.kind)
    context = RunContext(job_id=str(job.id), on_progress=ProgressReporter(job), attempt=job.attempts)
    message = "Complete."
    answer_json = None
    if not result_cache.result_exists(job.cache_key):
        with answering() as answer:
            data = spec.run(spec.parse(job.params), context)
        if answer.stale:
            # The key names the version current at submit; this answer is an older one's, so
            # it lives only long enough for its job to be read, and says what it is.
            timeout = settings.COLUMNAR_STALE_RESULT_SECONDS
            answer_json = result_cache.result_set(job.cache_key, data, timeout=timeout)
            message = stale_answer_message(answer)
        else:
            answer_json = result_cache.result_set(job.cache_key, data)
    job_succeed(job, result_file=context.result_file, message=message, answer_json=answer_json)


def stale_answer_message(answer: Answer) -> str:
    return (
        f"Complete; answered from dataset version {answer.version} while the snapshot of "
        f"version {answer.current} was being built."
    )


def job_succeed(
    job: Job, *, result_file: str = "", message: str = "Complete.", answer_json: str | None = None
) -> None:
    """Mark a running job done; ``answer_json`` is its answer as just cached, which the
    SUCCESS update carries when it is small (``events.job_update``)."""
    now = timezone.now()
    file_field = {"result_file": result_file} if result_file else {}
    changes = {
        "state": JobState.SUCCESS,
        "progress": 100,
        "message": message,
        "error": "",
        "completed_at": now,
        "updated_at": now,
        **file_field,
    }
    finished = job_rows.transition(job.id, states=RUNNING_STATES, changes=changes)
    if finished is not None:
        metrics.job_finished(finished)
        events.announce_job(finished, answer_json=answer_json)
    elif result_file:
        # Cancelled while finishing: still record the file, so the cleanup deletes it.
        Job.objects.filter(id=job.id).update(result_file=result_file)


def job_fail(job_id: str, error: str, *, attempt: int | None = None) -> None:
    """Mark a job failed with a message fit for the client (no internals, no secrets).

    A run failing gives its ``attempt``: once the sweeper has taken its worker for lost (a
    worker stalled, say, then let go on), a newer attempt runs the job, and the older one's
    failure (its time limit, run out while it stood still) is not the job's."""
    now = timezone.now()
    changes = {
        "state": JobState.FAILURE,
        "message": "Failed.",
        "error": error,
        "completed_at": now,
        "updated_at": now,
    }
    job = job_rows.transition(job_id, states=ACTIVE_STATES, changes=changes, attempt=attempt)
    if job is not None:
        metrics.job_finished(job)
        events.announce_job(job)


def job_mark_retry(job_id: str, reason: str, *, attempt: int | None = None) -> None:
    """Mark a running job as retrying; ``attempt`` as for :func:`job_fail`."""
    changes = {
        "state": JobState.RETRY,
        "message": f"Retrying after a transient error: {reason}.",
        "updated_at": timezone.now(),
    }
    job = job_rows.transition(job_id, states=RUNNING_STATES, changes=changes, attempt=attempt)
    if job is not None:
        events.announce_job(job)


def job_wait_for_broker(job_id: str, *, attempt: int | None = None) -> None:
    """The broker refused a retrying job's message (a Redis that is both cache and broker
    went down mid-job, say): say so on the job, as :func:`job_enqueue` does for a submit, so
    that the sweeper queues it again at its first run after the broker is back."""
    changes = {"message": BROKER_WAIT_MESSAGE, "updated_at": timezone.now()}
    job = job_rows.transition(job_id, states=(JobState.RETRY,), changes=changes, attempt=attempt)
    if job is not None:
        events.announce_job(job)


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
    events.announce_job(job)
    return job


def jobs_recover() -> int:
    """Put right what a fault left behind; the beat schedule runs this every minute, and a
    worker asks for a run whenever its broker connection comes back (config/celery_app.py).

    - A queued job whose message never reached the broker (it was down at submit) or was
      lost with it (a Redis broker restarted since) is queued again now, and any other
      queued job untouched for ``JOB_REQUEUE_AFTER_SECONDS`` too (a duplicate message is
      harmless: the claim is conditional).
    - A running job past its hard time limit was killed (or its worker vanished): it fails.
    - A job that no live worker holds, untouched for ``JOB_LOST_AFTER_SECONDS``, running or
      with nothing waiting in its queue, lost its whole worker (killed outright): it is
      queued again.
    - A job past ``JOB_MAX_ATTEMPTS`` fails; one waiting past ``JOB_QUEUE_GIVE_UP_SECONDS`` too.

    Returns how many jobs were queued again.
    """
    now = timezone.now()
    waiting = Job.objects.filter(state__in=(JobState.PENDING, JobState.RETRY))
    give_up_before = now - timedelta(seconds=settings.JOB_QUEUE_GIVE_UP_SECONDS)
    for job_id in waiting.filter(created_at__lt=give_up_before).values_list("id", flat=True):
        job_fail(str(job_id), "The job could not be started in time; please submit it again.")

    hard_limit = settings.CELERY_TASK_TIME_LIMIT
    killed_before = now - timedelta(seconds=hard_limit + settings.JOB_HARD_LIMIT_GRACE_SECONDS)
    running = Job.objects.filter(state__in=RUNNING_STATES, started_at__lt=killed_before)
    for job_id in running.values_list("id", flat=True):
        job_fail(
            str(job_id),
            f"The job did not finish within its hard time limit of {hard_limit} s (it was stopped, "
            "or its worker was lost); please submit it again, with narrower filters if you can.",
        )

    lost = Q(message=BROKER_WAIT_MESSAGE) | Q(
        updated_at__lt=now - timedelta(seconds=settings.JOB_REQUEUE_AFTER_SECONDS)
    )
    broker_started = broker_started_at()
    if broker_started is not None:
        lost |= Q(updated_at__lt=broker_started)
    count = 0
    for job in waiting.filter(lost):
        if job.attempts >= settings.JOB_MAX_ATTEMPTS:
            job_fail(str(job.id), attempts_exhausted_error())
            continue
        Job.objects.filter(id=job.id, state__in=(JobState.PENDING, JobState.RETRY)).update(
            message=queued_message(job_kind(job.kind)), updated_at=now
        )
        count += job_enqueue(job)
    return count + _requeue_jobs_no_worker_holds(now, broker_started)


LOST_RUN_MESSAGE = "Queued again: the worker that had taken it stopped."


def _requeue_jobs_no_worker_holds(now: datetime, broker_started: datetime | None) -> int:
    """Queue again each job whose worker was killed outright, main process and all, while
    running it or holding its message to run next.

    A pool process that dies is reported by its worker, which hands the message back at
    once (late acknowledgement). A whole worker that dies reports nothing: RabbitMQ hands its
    messages on when the connection drops, but a Redis broker only after the visibility
    timeout, past the hard time limit at which a running job would fail. So ask the workers
    (``live_workers``) about each job quiet for ``JOB_LOST_AFTER_SECONDS`` (longer than a
    message takes from the queue into a worker's lists): a running one that none of them
    holds has no run left; a waiting one that none holds, with nothing waiting in its queue,
    has no message left. A waiting job behind others in its queue may be one of them; the
    ``JOB_REQUEUE_AFTER_SECONDS`` rule covers it. Not within that long of a broker restart,
    while workers may still be reconnecting and not hear the question.
    """
    quiet_since = now - timedelta(seconds=settings.JOB_LOST_AFTER_SECONDS)
    if broker_started is not None and broker_started > quiet_since:
        return 0
    candidates = list(
        Job.objects.filter(state__in=ACTIVE_STATES, updated_at__lt=quiet_since).values_list(
            "id", "state", "kind", "attempts"
        )
    )
    if not candidates:
        return 0
    running: list[str] = []
    waiting: dict[str, list[str]] = {}
    for job_id, state, kind, _attempts in candidates:
        if state in RUNNING_STATES:
            running.append(str(job_id))
        else:
            waiting.setdefault(job_kind(kind).queue, []).append(str(job_id))
    lost = live_workers.held_by_none(running, waiting)
    if not lost:
        return 0
    count = 0
    for job_id, state, _kind, attempts in candidates:
        if str(job_id) not in lost:
            continue
        if attempts >= settings.JOB_MAX_ATTEMPTS:
            job_fail(str(job_id), attempts_exhausted_error())
            continue
        # A run that was cut short is retried; a message that never started leaves the job queued.
        again = JobState.RETRY if state in RUNNING_STATES else state
        changes = {"state": again, "message": LOST_RUN_MESSAGE, "updated_at": now}
        job = job_rows.transition(job_id, states=(state,), changes=changes, updated_before=quiet_since)
        if job is None:
            continue  # it moved on (a worker took it, or it finished) after we looked
        logger.warning("Job %s: no live worker holds it; queued again", job_id)
        events.announce_job(job)
        count += job_enqueue(job)
    return count


def broker_started_at() -> datetime | None:
    """When a Redis broker last started: its queue holds nothing sent before then (Redis
    keeps no queue across a restart unless persistence is on). None for other brokers,
    whose durable queues outlive a restart, or when the broker does not answer."""
    url = current_app.conf.broker_url or ""
    if not url.startswith(("redis://", "rediss://")):
        return None
    try:
        with redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2) as client:
            uptime = int(client.info("server")["uptime_in_seconds"])
    except redis.RedisError as exc:
        logger.warning("Could not ask the broker when it started (%s)", type(exc).__name__)
        return None
    # A little margin: a job queued in the broker's first second may or may not be in it.
    return timezone.now() - timedelta(seconds=uptime) + timedelta(seconds=1)


@dataclass(frozen=True)
class Cleanup:
    export_files_removed: int
    stray_files_removed: int
    jobs_removed: int


def jobs_cleanup() -> Cleanup:
    """Delete export files past the result lifetime, files no job row accounts for, and job
    records past the retention."""
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
    # Past the longest an export may run (its hard time limit and the sweeper's grace), a
    # temporary file has no writer left; past that and the result lifetime too, a finished
    # file has no row left that the expiry above would reach. The margin also covers clocks
    # of hosts sharing the directory that disagree by minutes.
    margin = settings.CELERY_TASK_TIME_LIMIT + settings.JOB_HARD_LIMIT_GRACE_SECONDS
    strays = stray_files_remove(
        finished_before=now.timestamp() - settings.RESULT_CACHE_TIMEOUT - margin,
        partial_before=now.timestamp() - margin,
    )
    deleted, _ = Job.objects.filter(
        completed_at__lt=now - timedelta(days=settings.JOB_RETENTION_DAYS)
    ).delete()
    return Cleanup(export_files_removed=files, stray_files_removed=strays, jobs_removed=deleted)
