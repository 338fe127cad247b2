"""test/stress_test_celery.py against the live stack: a real uvicorn, a real worker, real jobs.

The script is run as an operator runs it (a subprocess with flags or environment variables);
its exit status is the contract: 0 all jobs succeeded, 1 any failed or was lost, 2 nothing
could be measured (server unreachable, token refused).
"""

from __future__ import annotations

import datetime as dt
import functools
import importlib.util
import json
import os
import re
import socket
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path
from types import ModuleType

import httpx
import psycopg
import pytest
from job_helpers import dsn

from contracts.models import Area, BusinessCategory, Contract, Contractor, Organization
from data_processing.models import Job, JobState
from data_processing.registry import job_kind

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "test" / "stress_test_celery.py"
KINDS = {
    "search": "search",
    "analytics": "analytics",
    "analytics-paginated": "entity_table",
    "export": "export",
}


@functools.cache
def load_script() -> ModuleType:
    """The script as a module (it is not in a package); dataclasses need it in sys.modules."""
    spec = importlib.util.spec_from_file_location("stress_test_celery", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def run_script(
    *args: str, env: dict[str, str] | None = None, timeout: float = 180
) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in ("TASK_TYPE", "TASK_COUNT", "API_BASE_URL", "API_TOKEN")
    }
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        cwd=ROOT,
        env={**clean, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def committed_contracts(live_db) -> int:
    """Contracts over 2001-2025 whose titles carry the script's keywords, committed for the worker."""
    contractor = Contractor.objects.create(name="ACME BUILDERS")
    organization = Organization.objects.create(name="DEPARTMENT OF PUBLIC WORKS AND HIGHWAYS")
    area = Area.objects.create(name="Metro Manila")
    category = BusinessCategory.objects.create(name="Construction Projects")
    words = ["road", "supply", "construction", "repair", "office", "medical", "school", "water"]
    Contract.objects.bulk_create(
        Contract(
            reference_id=f"STRESS-{i:05d}",
            title=f"{words[i % len(words)].title()} works, lot {i}",
            contractor=contractor,
            organization=organization,
            area=area,
            business_category=category,
            amount=Decimal(10_000 + 137 * i),
            award_date=dt.date(2001, 1, 1) + dt.timedelta(days=(i * 53) % 9000),
        )
        for i in range(400)
    )
    return 400


# --- What the script sends ---------------------------------------------------------------------------


@pytest.mark.parametrize("task_type", sorted(KINDS))
def test_it_sends_distinct_valid_requests_drawn_from_its_seed(task_type):
    script = load_script()
    payloads = script.task_payloads(task_type, 200, seed=42)

    assert len({json.dumps(p, sort_keys=True) for p in payloads}) == 200
    assert payloads == script.task_payloads(task_type, 200, seed=42)
    assert payloads != script.task_payloads(task_type, 200, seed=43)
    for payload in payloads:
        job_kind(KINDS[task_type]).parse(payload)  # what the API does at submit: a 400 would raise


def test_allow_cache_sends_identical_requests():
    payloads = load_script().task_payloads("analytics", 5, seed=1, allow_cache=True)

    assert all(payload == payloads[0] for payload in payloads)


def test_percentiles_interpolate_between_ranks():
    percentile = load_script().percentile

    assert percentile([1.0], 0.99) == 1.0
    assert percentile([1.0, 2.0, 3.0, 4.0, 5.0], 0.5) == 3.0
    assert percentile(list(map(float, range(1, 101))), 0.95) == pytest.approx(95.05)


# --- How it retries a submit -------------------------------------------------------------------------


def test_a_throttled_submit_still_retries_a_dropped_connection_under_its_idempotency_key(monkeypatch):
    """Waiting out 429s must not use up the retries: a connection the server closes while
    the client waits (an idle keep-alive) is dropped as the next POST goes out on it."""
    script = load_script()
    monkeypatch.setattr(script, "RETRY_PAUSE_SECONDS", 0)
    answers = [429, 429, 429, "dropped", 503, 202]
    keys = []

    def server(request: httpx.Request) -> httpx.Response:
        keys.append(request.headers["Idempotency-Key"])
        answer = answers.pop(0)
        if answer == "dropped":
            raise httpx.ReadError("[Errno 104] Connection reset by peer", request=request)
        if answer == 429:
            return httpx.Response(429, headers={"Retry-After": "0"}, json={"code": "throttled"})
        return httpx.Response(answer, json={"task_id": "7f2c", "status": "PENDING"} if answer == 202 else {})

    api = script.Api("http://stress.test", "token")
    api.client = httpx.Client(transport=httpx.MockTransport(server))
    submission = script.Submission(index=0, payload={"filters": {}})
    api.submit("search", submission, deadline=time.monotonic() + 60)

    assert (submission.outcome, submission.task_id) == ("queued", "7f2c")
    assert (submission.throttled, submission.server_errors, submission.transport_errors) == (3, 1, 1)
    assert len(keys) == 6 and len(set(keys)) == 1


def test_a_submit_waits_out_a_503_that_says_when_to_come_back(monkeypatch):
    """Redis or PostgreSQL restarting: the server answers 503 with Retry-After for as long as
    it takes. The submit waits it out like a 429, more times than it has attempts, and the
    503s are still reported (and fail the run)."""
    script = load_script()
    monkeypatch.setattr(script, "RETRY_PAUSE_SECONDS", 0)
    answers = [503] * (script.SUBMIT_ATTEMPTS + 2) + [202]

    def server(request: httpx.Request) -> httpx.Response:
        if answers.pop(0) == 503:
            return httpx.Response(503, headers={"Retry-After": "0"}, json={"code": "service_unavailable"})
        return httpx.Response(202, json={"task_id": "7f2c", "status": "PENDING"})

    api = script.Api("http://stress.test", "token")
    api.client = httpx.Client(transport=httpx.MockTransport(server))
    submission = script.Submission(index=0, payload={"filters": {}})
    api.submit("search", submission, deadline=time.monotonic() + 60)
    tracker = script.Tracker([submission])
    tracker.accepted(submission)
    tracker.jobs["7f2c"] = script.JobView(state=script.SUCCESS, finished_seen_at=time.monotonic())
    lines, status = script.summary(tracker, run_started=time.monotonic(), timeout=60)

    assert (submission.outcome, submission.task_id) == ("queued", "7f2c")
    assert (submission.unavailable, submission.failures) == (script.SUBMIT_ATTEMPTS + 2, 0)
    assert f"5xx answers to submits (retried or not): {script.SUBMIT_ATTEMPTS + 2} " in "\n".join(lines)
    assert status == script.EXIT_FAILED


def test_a_submit_gives_up_after_its_attempts_fail(monkeypatch):
    script = load_script()
    monkeypatch.setattr(script, "RETRY_PAUSE_SECONDS", 0)
    calls = []

    def server(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        raise httpx.ConnectError("[Errno 111] Connection refused", request=request)

    api = script.Api("http://stress.test", "token")
    api.client = httpx.Client(transport=httpx.MockTransport(server))
    submission = script.Submission(index=0, payload={"filters": {}})
    api.submit("search", submission, deadline=time.monotonic() + 60)

    assert submission.outcome == "refused" and submission.error.startswith("ConnectError")
    assert len(calls) == script.SUBMIT_ATTEMPTS


# --- Against the live stack --------------------------------------------------------------------------


@pytest.mark.integration
@pytest.mark.usefixtures("celery_worker_process")
@pytest.mark.parametrize("task_type", ["search", "analytics", "export"])
def test_it_submits_the_jobs_waits_for_all_and_reports(asgi_server, alice, committed_contracts, task_type):
    result = run_script(
        "--count",
        "5",
        "--timeout",
        "120",
        "--seed",
        "7",
        env={
            "TASK_TYPE": task_type,
            "API_BASE_URL": f"http://{asgi_server}",
            "API_TOKEN": alice.auth_token.key,
        },
    )
    out = result.stdout

    assert result.returncode == 0, out + result.stderr
    assert f"task type {task_type}" in out
    assert "Submitting 5 tasks..." in out
    assert "✓ Task 5/5 submitted" in out or "Task 5/5" in out
    assert re.search(r"submitted 5/5 \| queued \d+ \| processing \d+ \| completed 5 \| failed 0", out)
    assert "Submitted: 5 (queued 5, deduplicated 0, cached 0, refused 0" in out
    assert "Final states: SUCCESS 5" in out
    assert re.search(r"Throughput: \d+\.\d\d tasks/s \(5 completed in", out)
    assert re.search(r"Submit latency \(ms\): p50 [\d.]+  p95 [\d.]+  p99 [\d.]+", out)
    assert re.search(r"End-to-end latency \(s\): p50 [\d.]+  p95 [\d.]+  p99 [\d.]+", out)
    assert "Lost (no final state within 120 s): 0" in out
    assert "Failed: 0" in out
    assert out.rstrip().endswith("RESULT: PASS")


def submitted_counts(output: str) -> tuple[int, int, int]:
    """The summary's queued, deduplicated and cached submits."""
    submitted = re.search(r"queued (\d+), deduplicated (\d+), cached (\d+)", output)
    assert submitted, output
    return int(submitted.group(1)), int(submitted.group(2)), int(submitted.group(3))


@pytest.mark.integration
@pytest.mark.usefixtures("celery_worker_process")
def test_identical_requests_are_joined_or_served_from_cache_with_allow_cache(
    asgi_server, alice, committed_contracts
):
    arguments = (
        "--task-type", "search", "--allow-cache", "--seed", "7", "--concurrency", "1",
        "--base-url", f"http://{asgi_server}", "--token", alice.auth_token.key,
    )  # fmt: skip
    # The first job held inside its query while the others are sent: each of them finds it
    # running and joins it. (Were it free to finish between a submit's cache look-up and its
    # insert, that submit would queue a job of its own, which the worker answers from the
    # cache without running the query.)
    with psycopg.connect(dsn()) as lock:
        lock.execute("LOCK TABLE contracts_contract IN ACCESS EXCLUSIVE MODE")
        joined = run_script("--count", "4", "--timeout", "2", *arguments)
        lock.rollback()
    job = Job.objects.get(owner=alice)
    deadline = time.monotonic() + 60
    while job.state != JobState.SUCCESS and time.monotonic() < deadline:
        time.sleep(0.1)
        job.refresh_from_db()
    # Once it has finished, its cached answer serves every identical request.
    cached = run_script("--count", "3", "--timeout", "60", *arguments)

    assert submitted_counts(joined.stdout) == (1, 3, 0), joined.stdout
    assert job.state == JobState.SUCCESS
    assert cached.returncode == 0, cached.stdout + cached.stderr
    assert submitted_counts(cached.stdout) == (0, 0, 3), cached.stdout


@pytest.mark.integration
@pytest.mark.usefixtures("celery_worker_process")
def test_jobs_still_running_at_the_timeout_count_as_lost(asgi_server, alice, committed_contracts):
    # Hold the contracts table: the worker blocks inside its query until the lock goes.
    with psycopg.connect(dsn()) as lock:
        lock.execute("LOCK TABLE contracts_contract IN ACCESS EXCLUSIVE MODE")
        result = run_script(
            "--count", "2", "--task-type", "analytics", "--timeout", "3",
            "--base-url", f"http://{asgi_server}", "--token", alice.auth_token.key,
        )  # fmt: skip
        lock.rollback()

    assert result.returncode == 1, result.stdout + result.stderr
    assert "Lost (no final state within 3 s): 2" in result.stdout
    assert result.stdout.rstrip().endswith("RESULT: FAIL")


# --- When nothing can be measured --------------------------------------------------------------------


def test_it_exits_2_when_the_server_is_unreachable():
    result = run_script("--base-url", f"http://127.0.0.1:{_free_port()}", "--token", "x" * 40, "--count", "2")

    assert result.returncode == 2
    assert "cannot reach" in result.stderr


@pytest.mark.integration
def test_it_exits_2_when_the_token_is_refused(asgi_server):
    result = run_script("--base-url", f"http://{asgi_server}", "--token", "not-a-real-token", "--count", "2")

    assert result.returncode == 2
    assert "refused the token" in result.stderr


def test_it_exits_2_without_a_token():
    result = run_script("--count", "2")

    assert result.returncode == 2
    assert "API token is required" in result.stderr
