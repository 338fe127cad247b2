#!/usr/bin/env python3
"""Load the job queue through the HTTP API and measure how the workers keep up.

    API_TOKEN=<token> python test/stress_test_celery.py                       # 20 searches
    API_TOKEN=<token> python test/stress_test_celery.py --task-type analytics --count 100
    TASK_TYPE=export TASK_COUNT=10 API_BASE_URL=http://localhost:3200 API_TOKEN=<token> \\
        python test/stress_test_celery.py

It submits N jobs (each with different filters, so the result cache and the deduplication of
identical jobs do not answer them for free; ``--allow-cache`` sends identical ones instead),
shows queued / processing / completed / failed once a second, and ends with throughput,
submit and end-to-end latency percentiles and the final state of every job.

Exit status: 0 when every job succeeded; 1 when any job failed, was refused, or was lost
(no final state before ``--timeout``), or any submit was answered with a 5xx; 2 when the
server cannot be reached or refuses the token. A 503 with Retry-After (Redis or PostgreSQL
restarting) is waited out like a 429, so a run across such a restart shows whether any job
was lost, and still fails on the 503s.

Only the standard library and httpx, so it runs from any checkout with the project's
requirements. One httpx client tops out near 330 requests/s on our 2-core machines (below
the servers it would measure): this measures the queue and the workers, not the web
server's peak rate (use wrk for that, as test/bench_job_api.py does).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import random
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx

TASK_TYPES = {
    # --task-type: (URL segment of the submit endpoint, job kind in the job list)
    "search": ("search", "search"),
    "analytics": ("analytics", "analytics"),
    "analytics-paginated": ("analytics-paginated", "entity_table"),
    "export": ("export", "export"),
}
SUCCESS = "SUCCESS"
FAILED_STATES = ("FAILURE", "REVOKED")
TERMINAL_STATES = (SUCCESS, *FAILED_STATES)
PROCESSING_STATES = ("STARTED", "PROGRESS", "RETRY")

EXIT_OK, EXIT_FAILED, EXIT_UNREACHABLE = 0, 1, 2
LIST_PAGE_SIZE = 100
SUBMIT_ATTEMPTS = 3
RETRY_PAUSE_SECONDS = 0.5

# Words found in real PhilGEPS award titles; None means "no keyword chip".
KEYWORDS = (
    None,
    "road",
    "supply",
    "construction",
    "repair",
    "office",
    "medical",
    "school",
    "water",
    "rehabilitation",
    "equipment",
    "building",
)
ENTITY_TYPES = ("contractor", "area", "organization", "business_category")
FIRST_DAY, LAST_DAY = dt.date(2001, 1, 1), dt.date(2025, 12, 31)


# --- What to submit --------------------------------------------------------------------------------


def draw_filters(rng: random.Random) -> dict[str, Any]:
    """A keyword (or none) and a date range of one week to one year somewhere in 2001-2025."""
    start = FIRST_DAY + dt.timedelta(days=rng.randrange((LAST_DAY - FIRST_DAY).days))
    end = min(start + dt.timedelta(days=rng.randint(7, 365)), LAST_DAY)
    filters: dict[str, Any] = {"time_ranges": [{"start": start.isoformat(), "end": end.isoformat()}]}
    keyword = rng.choice(KEYWORDS)
    if keyword:
        filters["keywords"] = [keyword]
    return filters


def draw_payload(task_type: str, rng: random.Random) -> dict[str, Any]:
    filters = draw_filters(rng)
    if task_type == "search":
        return {"filters": {**filters, "page": rng.randint(1, 3), "page_size": 20}}
    if task_type == "analytics":
        return {"filters": filters, "top_n": 10}
    if task_type == "analytics-paginated":
        return {"filters": filters, "entity_type": rng.choice(ENTITY_TYPES), "page": 1, "page_size": 20}
    return {"filters": filters}


def task_payloads(
    task_type: str, count: int, seed: int, *, allow_cache: bool = False
) -> list[dict[str, Any]]:
    """N request bodies drawn from ``seed`` (so a run can be repeated), all different unless
    ``allow_cache``: identical requests are answered from the cache or joined to one job."""
    rng = random.Random(seed)
    if allow_cache:
        return [draw_payload(task_type, rng)] * count
    payloads: list[dict[str, Any]] = []
    seen: set[str] = set()
    while len(payloads) < count:
        payload = draw_payload(task_type, rng)
        key = json.dumps(payload, sort_keys=True)
        if key not in seen:
            seen.add(key)
            payloads.append(payload)
    return payloads


# --- Talking to the API ------------------------------------------------------------------------------


class Unreachable(Exception):
    """The server cannot be reached, or it refuses the token: nothing can be measured."""


@dataclass
class Submission:
    """One POST and, once it was accepted, the job that answers it."""

    index: int
    payload: dict[str, Any]
    started_at: float = 0.0
    latency: float | None = None
    outcome: str = "waiting"  # waiting | queued | deduplicated | cached | refused
    task_id: str | None = None
    error: str = ""
    throttled: int = 0
    unavailable: int = 0  # 503s with a Retry-After (a service the server needs is down), waited out
    server_errors: int = 0  # other 5xx answers, even those a retry got past
    transport_errors: int = 0  # a POST's connection lost, refused or timed out, retried or not

    @property
    def failures(self) -> int:
        """What counts against ``SUBMIT_ATTEMPTS``; waiting out a 429, or a 503 that says when
        to come back, does not."""
        return self.transport_errors + self.server_errors


@dataclass
class JobView:
    """The latest status document of a job, and when this script first saw it finished."""

    state: str = "PENDING"
    document: dict[str, Any] = field(default_factory=dict)
    finished_seen_at: float | None = None


def retry_after_seconds(response: httpx.Response) -> float:
    """Retry-After in seconds, capped so a throttled run keeps reporting; 1 s if absent or a date."""
    try:
        return min(max(float(response.headers.get("Retry-After", "1")), 0.1), 10.0)
    except ValueError:
        return 1.0


class Api:
    """The few endpoints the stress test needs, on one shared (thread-safe) httpx client."""

    def __init__(self, base_url: str, token: str, timeout: float = 10.0) -> None:
        base = base_url.rstrip("/")
        self.root = base if base.endswith("/api/v1") else f"{base}/api/v1"
        self.client = httpx.Client(headers={"Authorization": f"Token {token}"}, timeout=timeout)

    def close(self) -> None:
        self.client.close()

    def preflight(self) -> int | None:
        """Check the server answers and accepts the token; return the live worker count, if known."""
        try:
            health = self.client.get(f"{self.root}/health/")
            jobs = self.client.get(f"{self.root}/data-processing/tasks/", params={"page_size": 1})
        except httpx.TransportError as exc:
            raise Unreachable(f"cannot reach {self.root}: {type(exc).__name__}: {exc}") from exc
        if jobs.status_code in (401, 403):
            raise Unreachable(f"the server refused the token (HTTP {jobs.status_code})")
        if jobs.status_code != 200:
            raise Unreachable(f"unexpected answer from {self.root}: HTTP {jobs.status_code}")
        try:
            return int(health.json()["checks"]["workers"]["count"])
        except (ValueError, KeyError, TypeError):
            return None

    def submit(self, segment: str, submission: Submission, deadline: float) -> None:
        """POST one job, waiting out 429s and 503s that carry a Retry-After (the server's
        answer while Redis or PostgreSQL restarts) until the deadline, and retrying transport
        errors and other 5xx answers, all under one Idempotency-Key (a retry of a POST that
        did reach the server joins the job it created). Only the failures count against
        ``SUBMIT_ATTEMPTS``: a throttled submit still gets its retries when, say, the server
        closes an idle keep-alive connection as the POST goes out on it."""
        url = f"{self.root}/data-processing/tasks/{segment}/"
        headers = {"Idempotency-Key": str(uuid.uuid4())}
        submission.started_at = time.monotonic()
        while True:
            try:
                response = self.client.post(url, json=submission.payload, headers=headers)
            except httpx.TransportError as exc:
                submission.transport_errors += 1
                if submission.failures < SUBMIT_ATTEMPTS and time.monotonic() < deadline:
                    time.sleep(RETRY_PAUSE_SECONDS)
                    continue
                submission.outcome, submission.error = "refused", f"{type(exc).__name__}: {exc}"
                break
            if response.status_code == 429 and time.monotonic() < deadline:
                submission.throttled += 1
                time.sleep(retry_after_seconds(response))
                continue
            says_when = "Retry-After" in response.headers
            if response.status_code == 503 and says_when and time.monotonic() < deadline:
                submission.unavailable += 1
                time.sleep(retry_after_seconds(response))
                continue
            if response.status_code >= 500:
                submission.server_errors += 1
                if submission.failures < SUBMIT_ATTEMPTS:
                    time.sleep(RETRY_PAUSE_SECONDS)
                    continue
            self._record(submission, response)
            break
        submission.latency = time.monotonic() - submission.started_at

    @staticmethod
    def _record(submission: Submission, response: httpx.Response) -> None:
        try:
            body = response.json()
        except ValueError:
            body = {}
        if response.status_code == 202 and body.get("task_id"):
            submission.outcome = "deduplicated" if body.get("deduplicated") else "queued"
            submission.task_id = body["task_id"]
        elif response.status_code == 200 and body.get("status") == "cached":
            submission.outcome, submission.task_id = "cached", body.get("task_id")
        else:
            submission.outcome = "refused"
            submission.error = f"HTTP {response.status_code}: {body.get('message') or response.text[:200]}"

    def job_documents(self, kind: str, wanted: set[str], run_size: int) -> dict[str, dict[str, Any]]:
        """Status documents of the ``wanted`` jobs: from the newest-first job list (a page per
        100 jobs instead of a request per job: this run's jobs are the newest), then one by one
        for any not found there (a job joined from an earlier run, say)."""
        found: dict[str, dict[str, Any]] = {}
        pages = math.ceil(run_size / LIST_PAGE_SIZE) + 1
        for page in range(1, pages + 1):
            response = self.client.get(
                f"{self.root}/data-processing/tasks/",
                params={"kind": kind, "page": page, "page_size": LIST_PAGE_SIZE},
            )
            if response.status_code != 200:
                break
            body = response.json()
            for document in body.get("results", []):
                if document["task_id"] in wanted:
                    found[document["task_id"]] = document
            if wanted <= found.keys() or not body.get("next"):
                break
        for task_id in wanted - found.keys():
            response = self.client.get(
                f"{self.root}/data-processing/tasks/status/", params={"task_id": task_id}
            )
            if response.status_code == 200:
                found[task_id] = response.json()
        return found


# --- Watching ----------------------------------------------------------------------------------------


class Tracker:
    """Submissions and the jobs behind them; counts by the categories of the live view."""

    def __init__(self, submissions: list[Submission]) -> None:
        self.submissions = submissions
        self.jobs: dict[str, JobView] = {}
        self.lock = threading.Lock()

    def accepted(self, submission: Submission) -> None:
        with self.lock:
            if submission.task_id and submission.task_id not in self.jobs:
                self.jobs[submission.task_id] = JobView()
            if submission.outcome == "cached" and submission.task_id:
                self.jobs[submission.task_id].state = SUCCESS
                self.jobs[submission.task_id].finished_seen_at = time.monotonic()

    def unfinished(self) -> set[str]:
        with self.lock:
            return {task_id for task_id, job in self.jobs.items() if job.state not in TERMINAL_STATES}

    def update(self, documents: dict[str, dict[str, Any]]) -> None:
        now = time.monotonic()
        with self.lock:
            for task_id, document in documents.items():
                job = self.jobs[task_id]
                job.state, job.document = document["state"], document
                if job.state in TERMINAL_STATES and job.finished_seen_at is None:
                    job.finished_seen_at = now

    def job_of(self, submission: Submission) -> JobView | None:
        return self.jobs.get(submission.task_id) if submission.task_id else None

    def state_of(self, submission: Submission) -> str:
        """waiting | refused | one of the job states."""
        job = self.job_of(submission)
        if job is None:
            # Not submitted yet, refused, or accepted a moment ago and not yet registered here.
            return "waiting" if submission.outcome != "refused" else "refused"
        return job.state

    def tally(self) -> dict[str, int]:
        counts = Counter()
        with self.lock:
            for submission in self.submissions:
                state = self.state_of(submission)
                if state == "waiting":
                    counts["submitting"] += 1
                elif state == "PENDING":
                    counts["queued"] += 1
                elif state in PROCESSING_STATES:
                    counts["processing"] += 1
                elif state == SUCCESS:
                    counts["completed"] += 1
                else:
                    counts["failed"] += 1
        return {key: counts[key] for key in ("submitting", "queued", "processing", "completed", "failed")}

    def all_settled(self) -> bool:
        with self.lock:
            return all(self.state_of(s) in ("refused", *TERMINAL_STATES) for s in self.submissions)


class LiveView:
    """One status line a second: rewritten in place on a terminal, appended otherwise."""

    def __init__(self, stream: Any = sys.stdout) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self.lock = threading.Lock()
        self.line_open = False

    def say(self, text: str) -> None:
        with self.lock:
            if self.line_open:
                self.stream.write("\r\x1b[K")
                self.line_open = False
            self.stream.write(text + "\n")
            self.stream.flush()

    def status(self, elapsed: float, counts: dict[str, int], total: int) -> None:
        submitted = total - counts["submitting"]
        text = (
            f"[{elapsed:6.1f}s] submitted {submitted}/{total} | queued {counts['queued']} | "
            f"processing {counts['processing']} | completed {counts['completed']} | failed {counts['failed']}"
        )
        with self.lock:
            if self.tty:
                self.stream.write("\r\x1b[K" + text)
                self.line_open = True
            else:
                self.stream.write(text + "\n")
            self.stream.flush()

    def close(self) -> None:
        with self.lock:
            if self.line_open:
                self.stream.write("\n")
                self.line_open = False
            self.stream.flush()


# --- Summary -----------------------------------------------------------------------------------------


def percentile(values: list[float], fraction: float) -> float:
    """Linear interpolation between the closest ranks (numpy's default)."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def distribution(label: str, values: Iterable[float], unit: str, scale: float = 1.0) -> str:
    values = [value * scale for value in values]
    if not values:
        return f"{label}: n/a"
    p50, p95, p99 = (percentile(values, f) for f in (0.50, 0.95, 0.99))
    digits = 1 if unit == "ms" else 2
    return (
        f"{label} ({unit}): p50 {p50:.{digits}f}  p95 {p95:.{digits}f}  p99 {p99:.{digits}f}  "
        f"max {max(values):.{digits}f}"
    )


def server_seconds(document: dict[str, Any], start: str, end: str) -> float | None:
    if not document.get(start) or not document.get(end):
        return None
    begin = dt.datetime.fromisoformat(document[start].replace("Z", "+00:00"))
    finish = dt.datetime.fromisoformat(document[end].replace("Z", "+00:00"))
    return (finish - begin).total_seconds()


def summary(tracker: Tracker, run_started: float, timeout: float) -> tuple[list[str], int]:
    """The closing report and the exit status it implies."""
    submissions = tracker.submissions
    outcomes = Counter(s.outcome for s in submissions)
    finals = Counter(tracker.state_of(s) for s in submissions)
    lost = [s for s in submissions if s.outcome != "refused" and tracker.state_of(s) not in TERMINAL_STATES]
    failed = [s for s in submissions if tracker.state_of(s) in FAILED_STATES]
    refused = [s for s in submissions if s.outcome == "refused"]
    succeeded = [s for s in submissions if tracker.state_of(s) == SUCCESS]
    unavailable = sum(s.unavailable for s in submissions)
    server_errors = sum(s.server_errors for s in submissions) + unavailable
    finished = {s.index: job.finished_seen_at for s in succeeded if (job := tracker.job_of(s))}
    end_to_end = [done - s.started_at for s in succeeded if (done := finished.get(s.index)) is not None]
    last_done = max((done for done in finished.values() if done is not None), default=run_started)
    span = max(last_done - run_started, 1e-9)
    queued_docs = [job.document for s in succeeded if s.outcome == "queued" and (job := tracker.job_of(s))]
    waits = [w for d in queued_docs if (w := server_seconds(d, "created_at", "started_at")) is not None]
    runs = [r for d in queued_docs if (r := server_seconds(d, "started_at", "completed_at")) is not None]

    lines = [
        "",
        "=== Summary ===",
        "Submitted: {} (queued {}, deduplicated {}, cached {}, refused {}; throttled {} times)".format(
            len(submissions) - outcomes["waiting"],
            outcomes["queued"],
            outcomes["deduplicated"],
            outcomes["cached"],
            outcomes["refused"],
            sum(s.throttled for s in submissions),
        ),
        "Final states: " + ", ".join(f"{state} {n}" for state, n in sorted(finals.items())),
        f"Throughput: {len(succeeded) / span:.2f} tasks/s ({len(succeeded)} completed in {span:.2f} s)",
        distribution("Submit latency", [s.latency for s in submissions if s.latency is not None], "ms", 1000),
        distribution("End-to-end latency", end_to_end, "s"),
        distribution("Queue wait, server", waits, "s"),
        distribution("Run time, server", runs, "s"),
        f"Lost (no final state within {timeout:g} s): {len(lost)}",
        f"Failed: {len(failed)}",
        f"Refused: {len(refused)}",
        f"5xx answers to submits (retried or not): {server_errors}"
        + (f" ({unavailable} a 503 with Retry-After, waited out)" if unavailable else ""),
        "Transport errors under submits (a connection lost, refused or timed out; retried or not): "
        f"{sum(s.transport_errors for s in submissions)}",
    ]
    for s in refused[:5]:
        lines.append(f"  refused #{s.index + 1}: {s.error}")
    for s in failed[:5]:
        job = tracker.job_of(s)
        error = job.document.get("error") if job else ""
        lines.append(f"  failed #{s.index + 1} ({s.task_id}): {error}")
    ok = not (lost or failed or refused or server_errors)
    lines.append("RESULT: PASS" if ok else "RESULT: FAIL")
    return lines, EXIT_OK if ok else EXIT_FAILED


# --- Running -----------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    environ = os.environ
    parser = argparse.ArgumentParser(
        description="Submit N jobs through the HTTP API and measure the queue (exit 1 on any loss).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--task-type",
        choices=sorted(TASK_TYPES),
        default=environ.get("TASK_TYPE", "search"),
        help="env TASK_TYPE",
    )
    parser.add_argument(
        "--count", type=int, default=int(environ.get("TASK_COUNT", "20")), help="env TASK_COUNT"
    )
    parser.add_argument(
        "--base-url", default=environ.get("API_BASE_URL", "http://127.0.0.1:8000"), help="env API_BASE_URL"
    )
    # Not a default from the environment: --help would print the token.
    parser.add_argument("--token", help="API token (env API_TOKEN; required)")
    parser.add_argument(
        "--timeout", type=float, default=300.0, help="seconds before unfinished jobs count as lost"
    )
    parser.add_argument("--concurrency", type=int, default=4, help="threads submitting at once")
    parser.add_argument("--poll-interval", type=float, default=0.5, help="seconds between status sweeps")
    parser.add_argument(
        "--seed", type=int, default=None, help="draw the filters from this seed (None: from the clock)"
    )
    parser.add_argument(
        "--allow-cache", action="store_true", help="send N identical requests (cache and dedup answer most)"
    )
    args = parser.parse_args(argv)
    args.token = args.token or environ.get("API_TOKEN")
    if not args.token:
        parser.error("an API token is required: --token or API_TOKEN")
    if args.count < 1 or args.concurrency < 1 or args.timeout <= 0 or args.poll_interval <= 0:
        parser.error("--count, --concurrency, --timeout and --poll-interval must be positive")
    if args.task_type not in TASK_TYPES:
        parser.error(f"TASK_TYPE must be one of {', '.join(sorted(TASK_TYPES))}")
    if args.seed is None:
        args.seed = int(time.time())
    return args


def submit_all(
    api: Api,
    segment: str,
    tracker: Tracker,
    view: LiveView,
    concurrency: int,
    deadline: float,
) -> ThreadPoolExecutor:
    """Start submitting in the background; the caller watches while jobs are still going in."""
    total = len(tracker.submissions)
    announce_each = total <= 50

    def submit(submission: Submission) -> None:
        api.submit(segment, submission, deadline)
        tracker.accepted(submission)
        if announce_each or submission.outcome == "refused":
            mark = "✗" if submission.outcome == "refused" else "✓"
            detail = submission.error or f"{submission.outcome}, {(submission.latency or 0) * 1000:.0f} ms"
            view.say(f"{mark} Task {submission.index + 1}/{total} submitted ({detail})")

    executor = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="submit")
    for submission in tracker.submissions:
        executor.submit(submit, submission)
    executor.shutdown(wait=False)
    return executor


def watch(
    api: Api,
    kind: str,
    tracker: Tracker,
    view: LiveView,
    *,
    run_started: float,
    deadline: float,
    poll_interval: float,
    submitting_done: Callable[[], bool],
) -> None:
    """Sweep the jobs' states until all are final or the deadline passes; a line a second."""
    last_line = 0.0
    while True:
        unfinished = tracker.unfinished()
        if unfinished:
            try:
                tracker.update(api.job_documents(kind, unfinished, len(tracker.jobs)))
            except (httpx.TransportError, ValueError) as exc:
                view.say(f"! status poll failed: {type(exc).__name__}")
        now = time.monotonic()
        done = submitting_done() and tracker.all_settled()
        if done or now >= deadline or now - last_line >= 1.0:
            view.status(now - run_started, tracker.tally(), len(tracker.submissions))
            last_line = now
        if done or now >= deadline:
            return
        time.sleep(poll_interval)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    segment, kind = TASK_TYPES[args.task_type]
    view = LiveView()
    api = Api(args.base_url, args.token)
    try:
        try:
            workers = api.preflight()
        except Unreachable as exc:
            print(f"stress_test_celery: {exc}", file=sys.stderr)
            return EXIT_UNREACHABLE
        payloads = task_payloads(args.task_type, args.count, args.seed, allow_cache=args.allow_cache)
        tracker = Tracker([Submission(index=i, payload=p) for i, p in enumerate(payloads)])
        print(
            f"Target {api.root} | task type {args.task_type} | seed {args.seed} | "
            f"live workers {workers if workers is not None else 'unknown'}"
        )
        if workers == 0:
            print("! No worker answers the health check's ping: the jobs may wait until one starts.")
        print(f"Submitting {args.count} tasks...")
        run_started = time.monotonic()
        deadline = run_started + args.timeout
        executor = submit_all(api, segment, tracker, view, args.concurrency, deadline)
        print("Monitoring execution...")
        try:
            watch(
                api,
                kind,
                tracker,
                view,
                run_started=run_started,
                deadline=deadline,
                poll_interval=args.poll_interval,
                submitting_done=lambda: all(s.outcome != "waiting" for s in tracker.submissions),
            )
        except KeyboardInterrupt:
            view.say("Interrupted: the jobs not yet finished count as lost.")
        view.close()
        # Jobs not yet submitted at the deadline are dropped (and count as lost); the ones in
        # flight end within one HTTP timeout.
        executor.shutdown(wait=True, cancel_futures=True)
        lines, status = summary(tracker, run_started, args.timeout)
        print("\n".join(lines))
        return status
    finally:
        api.close()


if __name__ == "__main__":
    sys.exit(main())
