"""Fixtures shared by every test: a cast of users (alice, bob), API clients, factories.

`test/` is not a package (it would shadow the standard library's `test`), so shared
helpers live here as fixtures rather than in importable modules.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory
import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from contracts.models import Area, BusinessCategory, Contract, Contractor, Organization


class ContractFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contract

    reference_id = factory.Sequence(lambda n: f"AW-{n:08d}")
    title = factory.Sequence(lambda n: f"Supply and delivery of item {n}")
    contractor = factory.LazyFunction(lambda: Contractor.objects.get_or_create(name="ACME BUILDERS")[0])
    organization = factory.LazyFunction(
        lambda: Organization.objects.get_or_create(name="DEPARTMENT OF PUBLIC WORKS")[0]
    )
    area = factory.LazyFunction(lambda: Area.objects.get_or_create(name="Metro Manila")[0])
    business_category = factory.LazyFunction(
        lambda: BusinessCategory.objects.get_or_create(name="Construction Projects")[0]
    )
    amount = Decimal("100000.00")
    award_date = dt.date(2023, 6, 15)


@pytest.fixture
def make_contract(db):
    """Create a contract; entity names may be given as plain strings."""

    def make(**kwargs) -> Contract:
        for field, model in (
            ("contractor", Contractor),
            ("organization", Organization),
            ("area", Area),
            ("business_category", BusinessCategory),
        ):
            if isinstance(kwargs.get(field), str):
                kwargs[field] = model.objects.get_or_create(name=kwargs[field])[0]
        if isinstance(kwargs.get("award_date"), str):
            kwargs["award_date"] = dt.date.fromisoformat(kwargs["award_date"])
        if "amount" in kwargs:
            kwargs["amount"] = Decimal(str(kwargs["amount"]))
        return ContractFactory(**kwargs)

    return make


def _user(django_user_model, username: str):
    user = django_user_model.objects.create_user(username=username, password=f"{username}-password")
    Token.objects.create(user=user)
    return user


@pytest.fixture
def alice(django_user_model):
    return _user(django_user_model, "alice")


@pytest.fixture
def bob(django_user_model):
    return _user(django_user_model, "bob")


@pytest.fixture
def anon_client() -> APIClient:
    return APIClient()


@pytest.fixture
def alice_client(alice) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {alice.auth_token.key}")
    return client


@pytest.fixture
def bob_client(bob) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {bob.auth_token.key}")
    return client


# --- Live processes: a real Celery worker and a real ASGI server ---------------------------------
# They run as subprocesses against the pytest-django test database, so tests that use them
# must commit their data: use the `live_db` fixture (transactional_db) rather than `db`.

import os  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

import psycopg  # noqa: E402
import redis as redis_lib  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.management.base import CommandError  # noqa: E402
from stack_commands import make_run_worker_options  # noqa: E402

from config import throttling  # noqa: E402
from data_processing import selectors  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    from django.db import connection

    db = connection.settings_dict
    url = (
        f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": url,
        "TEST_REDIS_URL": settings.REDIS_URL,
        "TEST_CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "PYTHONUNBUFFERED": "1",
    }
    env.update(extra or {})
    return env


class LiveProcess:
    """A subprocess with its output in test-artifacts/, stopped with SIGTERM then SIGKILL.

    Processes of the same name (in one session or across sessions) append to one log, kept
    for reading after a failure; ``output()`` is this process's part of it only, so a
    readiness line or a message an earlier process wrote is never taken for this one's."""

    def __init__(self, name: str, args: list[str], env: dict[str, str]) -> None:
        ARTIFACTS.mkdir(exist_ok=True)
        self.name = name
        self.log_path = ARTIFACTS / f"{name}.log"
        self.log = self.log_path.open("ab")
        self.log_start = self.log.tell()
        self.proc = subprocess.Popen(
            args, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def output(self) -> str:
        with self.log_path.open("rb") as log:
            log.seek(self.log_start)
            return log.read().decode(errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()

    def children(self) -> list[int]:
        out = subprocess.run(
            ["ps", "-o", "pid=", "--ppid", str(self.proc.pid)], capture_output=True, text=True
        )
        return [int(pid) for pid in out.stdout.split()]


def start_worker(
    name: str,
    *,
    queues: str = "interactive,exports",
    concurrency: int = 2,
    extra_env: dict[str, str] | None = None,
    command: list[str] | None = None,
) -> LiveProcess:
    """A worker on the test settings: the suite's own command line, or ``command``."""
    worker = LiveProcess(
        name,
        command
        or [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "-Q",
            queues,
            "-c",
            str(concurrency),
            "-n",
            f"{name}@%h",
            *make_run_worker_options(),
            "-l",
            "info",
        ],
        _child_env(extra_env),
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if " ready." in worker.output():
            return worker
        if worker.proc.poll() is not None:
            break
        time.sleep(0.2)
    worker.stop()
    raise RuntimeError(f"Celery worker did not start:\n{worker.output()[-3000:]}")


def start_asgi_server(
    name: str = "asgi",
    *,
    extra_env: dict[str, str] | None = None,
    command: Callable[[int], list[str]] | None = None,
) -> tuple[LiveProcess, str]:
    """A web server on a free port: plain uvicorn, or ``command(port)``."""
    port = _free_port()
    uvicorn = [sys.executable, "-m", "uvicorn", "config.asgi:application", "--host", "127.0.0.1"]
    args = command(port) if command else [*uvicorn, "--port", str(port)]
    server = LiveProcess(name, args, _child_env(extra_env))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return server, f"127.0.0.1:{port}"
        except OSError:
            if server.proc.poll() is not None:
                break
            time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"ASGI server did not start:\n{server.output()[-3000:]}")


@pytest.fixture(scope="session", autouse=True)
def _clean_redis():
    """Every session starts on an empty test Redis. The test database starts afresh and
    numbers its users from 1 again, so what an earlier session left in Redis under a user's
    id (their newest job for a cache key, and that job's mirror) would otherwise answer for
    this session's user of that id."""
    redis_lib.Redis.from_url(settings.REDIS_URL).flushdb()


def _caused_by(exc: BaseException, kind: type[BaseException]) -> bool:
    while exc is not None and not isinstance(exc, kind):
        exc = exc.__cause__
    return exc is not None


@pytest.fixture(scope="session", autouse=True)
def _flush_survives_a_straggling_job():
    """A test may end with its job still running in the worker (it checked the submit's answer,
    not the job). The flush that empties the tables after a transactional test then takes
    its locks table by table while the job's query takes its own, and PostgreSQL may break
    the deadlock by failing the flush: the rows stay, and the next test's users collide
    with them. Django's flush is one transaction, so trying it again is safe."""
    from django.test import TransactionTestCase

    flush = TransactionTestCase._fixture_teardown

    def flush_until_done(self: TransactionTestCase) -> None:
        for attempt in range(1, 6):
            try:
                return flush(self)
            except CommandError as exc:
                if not _caused_by(exc, psycopg.errors.DeadlockDetected) or attempt == 5:
                    raise
                time.sleep(0.2 * attempt)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(TransactionTestCase, "_fixture_teardown", flush_until_done)
        yield


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup, django_db_blocker, _clean_redis):
    """One real worker (prefork, 2 processes) on both queues for the whole session."""
    with django_db_blocker.unblock():
        worker = start_worker("worker")
    yield worker
    worker.stop()


@pytest.fixture(scope="session")
def asgi_server(django_db_setup, django_db_blocker, _clean_redis):
    """A real uvicorn serving HTTP and websockets; yields "host:port"."""
    with django_db_blocker.unblock():
        server, address = start_asgi_server()
    yield address
    server.stop()


@pytest.fixture
def asgi_server_to_stop(django_db_setup, django_db_blocker, _clean_redis):
    """A uvicorn of the test's own, for a test that stops it: yields (process, "host:port")."""
    with django_db_blocker.unblock():
        server, address = start_asgi_server("asgi-stopped")
    yield server, address
    server.stop()


@pytest.fixture
def live_db(transactional_db):
    """Committed data, visible to the worker and server subprocesses."""
    from config.authentication import clear_token_cache

    clear_token_cache()
    from data_processing.registry import job_kinds

    # Not FLUSHDB: the broker shares this database and keeps its queue bindings there.
    client = redis_lib.Redis.from_url(settings.REDIS_URL)
    for pattern in (*(f"{spec.prefix}:*" for spec in job_kinds()), ":1:*"):
        for key in client.scan_iter(pattern):
            client.delete(key)
    yield


@pytest.fixture
def table_lock():
    """``with table_lock():`` holds contracts_contract exclusively, so any job query waits:
    how tests keep a job running long enough to cancel it, kill its worker or time it out."""
    import contextlib

    import psycopg
    from job_helpers import dsn

    @contextlib.contextmanager
    def hold():
        with psycopg.connect(dsn()) as conn:
            conn.execute("LOCK TABLE contracts_contract IN ACCESS EXCLUSIVE MODE")
            yield conn
            conn.rollback()

    return hold


@pytest.fixture
def worker_factory(django_db_setup, django_db_blocker, _clean_redis):
    """Start extra workers (another broker, other settings); all are stopped afterwards."""
    started: list[LiveProcess] = []

    def start(name: str, **kwargs) -> LiveProcess:
        with django_db_blocker.unblock():
            worker = start_worker(name, **kwargs)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


@pytest.fixture
def asgi_server_factory(django_db_setup, django_db_blocker, _clean_redis):
    """Start extra ASGI servers (other settings); each call returns "host:port"; all are
    stopped afterwards."""
    started: list[LiveProcess] = []

    def start(name: str, **kwargs) -> str:
        with django_db_blocker.unblock():
            server, address = start_asgi_server(name, **kwargs)
        started.append(server)
        return address

    yield start
    for server in started:
        server.stop()


@pytest.fixture(autouse=True)
def forget_typical_durations():
    """Each test starts with no kind's typical run time remembered: the per-process memo
    must not keep what an earlier test's rolled-back rows said. A test that takes this
    fixture can call it to forget them again."""
    memo = selectors.typical_duration_seconds

    def forget() -> None:
        with memo.cache_lock:
            memo.cache.clear()

    forget()
    yield forget


@pytest.fixture(autouse=True)
def _fresh_throttles():
    """Each test starts with no requests counted against any rate limit (they live in Redis)."""
    client = redis_lib.Redis.from_url(settings.REDIS_URL)
    for key in client.scan_iter(f"{throttling.KEY_PREFIX}*", count=1000):
        client.delete(key)
    yield


@pytest.fixture
def beat_process(django_db_setup, django_db_blocker, _clean_redis):
    """A real beat reading its schedule from the database (django-celery-beat), looking
    at it every second, as `make run` and docker compose run it."""
    beat = LiveProcess(
        "beat",
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "beat",
            "-S",
            "django_celery_beat.schedulers:DatabaseScheduler",
            "--max-interval",
            "1",
            "-l",
            "info",
        ],
        _child_env(),
    )
    yield beat
    beat.stop()


@pytest.fixture(scope="session", autouse=True)
def _fresh_metrics_directory():
    """Start each session's metrics from zero: the files of earlier sessions' processes would
    otherwise pile up (one set per process ever started) and slow every scrape."""
    root = Path(settings.METRICS_DIRECTORY)
    for path in root.glob("*/*.db"):
        path.unlink(missing_ok=True)
