#!/usr/bin/env python
"""Submit latency and end-to-end job time of the async API, each beside its baseline.

Not a test: a benchmark that prints figures. It starts its own stack on this machine
(uvicorn with 2 worker processes for HTTP + websockets, one Celery worker) against the
`philgeps_bench` database (see bench_chip_endpoints.py) and a spare Redis database, then:

1. with wrk at 50 connections: POST tasks/search/ (distinct bodies, so every request
   creates and enqueues a job) beside GET tasks/status/ (an authenticated DRF endpoint
   doing one indexed query), same server, same run;
2. the same status endpoint while 4 slow synchronous chip-aggregates (every contract)
   are in flight: parallel requests must not queue behind a slow one;
3. sequentially: submit a small search → SUCCESS seen on the websocket, beside a raw
   Celery round trip (the built-in no-op celery.accumulate → result) through the same broker.

    .venv/bin/python test/bench_job_api.py [--duration 10] [--jobs 30]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
from websockets.sync.client import connect

ROOT = Path(__file__).resolve().parent.parent
PG = "postgres://postgres@127.0.0.1:5432"

SUBMIT_LUA = """
counter = 0
request = function()
  counter = counter + 1
  local body = string.format('{"filters": {"keywords": ["bench-%%d-%%d"]}}', math.random(1, 1e9), counter)
  return wrk.format("POST", "/api/v1/data-processing/tasks/search/", {
    ["Authorization"] = "Bearer %s", ["Content-Type"] = "application/json"}, body)
end
"""

STATUS_LUA = """
request = function()
  return wrk.format("GET", "/api/v1/data-processing/tasks/status/?task_id=%s", {
    ["Authorization"] = "Bearer %s"})
end
"""


def percentile(samples: list[float], pct: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(args, cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)


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
        ["wrk", "-t2", "-c50", f"-d{duration}s", "--latency", "-s", handle.name, url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    os.unlink(handle.name)

    def ms(label: str) -> float:
        value, unit = re.search(rf"^\s+{label}\s+([\d.]+)(us|ms|s)\s*$", out, re.M).groups()
        return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]

    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "p50": ms("50%"),
        "p99": ms("99%"),
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "errors": int(non_2xx.group(1)) if non_2xx else 0,
    }


def status_beside_slow_aggregates(
    base: str, token: str, task_id: str, duration: int
) -> tuple[list[float], dict[str, float]]:
    """Status latency under wrk while 4 threads keep full-table aggregates running."""
    stop = threading.Event()
    slow: list[float] = []

    def aggregate_forever() -> None:
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=300) as client:
            while not stop.is_set():
                started = time.perf_counter()
                client.post("/api/v1/contracts/chip-aggregates/", json={"filters": {}}).raise_for_status()
                slow.append((time.perf_counter() - started) * 1000)

    threads = [threading.Thread(target=aggregate_forever, daemon=True) for _ in range(4)]
    for thread in threads:
        thread.start()
    time.sleep(1)
    try:
        return slow, run_wrk(STATUS_LUA % (task_id, token), base, duration)
    finally:
        stop.set()
        for thread in threads:
            thread.join()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--jobs", type=int, default=30, help="end-to-end jobs to time")
    parser.add_argument("--database", default="philgeps_bench")
    parser.add_argument("--port", type=int, default=8766)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is needed (Debian package 'wrk'): apt-get install wrk")

    redis_url = "redis://127.0.0.1:6379/13"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DJANGO_DEBUG": "false",
        "DATABASE_URL": f"{PG}/{args.database}",
        "REDIS_URL": redis_url,
        "LOG_LEVEL": "WARNING",
        "JOB_SUBMIT_THROTTLE_RATE": "100000000/min",
    }
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
    token = subprocess.run(
        [*manage, "ensure_demo_user", "--username", "bench", "--password", "bench-password", "--token-only"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    logs = ROOT / "var"
    logs.mkdir(exist_ok=True)
    server = start(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "config.asgi:application",
            "--port",
            str(args.port),
            "--workers",
            "2",
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        env,
        logs / "bench-web.log",
    )
    worker = start(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "-Q",
            "interactive",
            "-c",
            "2",
            "-n",
            "bench@%h",
            "-l",
            "warning",
        ],
        env,
        logs / "bench-worker.log",
    )
    base = f"http://127.0.0.1:{args.port}"
    try:
        wait_http(f"{base}/api/v1/schema/")
        os.environ.update(env)
        sys.path.insert(0, str(ROOT))  # run from test/, whose config/ tests would shadow the project's
        import django

        django.setup()
        from config.celery_app import app

        app.control.purge()
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30) as client:
            task_id = client.post(
                "/api/v1/data-processing/tasks/search/", json={"filters": {"keywords": ["baseline"]}}
            ).json()["task_id"]
            status = run_wrk(STATUS_LUA % (task_id, token), base, args.duration)
            submit = run_wrk(SUBMIT_LUA % token, base, args.duration)
            app.control.purge()  # the thousands of queued benchmark jobs need not run
            slow, status_under_load = status_beside_slow_aggregates(base, token, task_id, args.duration)

            # End to end, one job at a time, after the queue is empty again.
            ws_url = f"ws://127.0.0.1:{args.port}/ws/tasks/status/?token={token}"
            end_to_end = []
            with connect(ws_url) as ws:
                for n in range(args.jobs):
                    started = time.perf_counter()
                    queued = client.post(
                        "/api/v1/data-processing/tasks/search/",
                        json={"filters": {"keywords": [f"e2e-{time.time_ns()}-{n}"]}},
                    ).json()
                    while True:
                        message = json.loads(ws.recv(timeout=30))
                        if message.get("task_id") == queued["task_id"] and message["state"] == "SUCCESS":
                            break
                    end_to_end.append((time.perf_counter() - started) * 1000)
            ping = []
            for _ in range(args.jobs):
                started = time.perf_counter()
                app.send_task("celery.accumulate", args=[1], queue="interactive").get(timeout=30)
                ping.append((time.perf_counter() - started) * 1000)
    finally:
        for process in (server, worker):
            process.terminate()
            process.wait()

    print(f"\nwrk -t2 -c50 -d{args.duration}s against uvicorn --workers 2 (ms)")
    print(f"{'':<44}{'p50':>8}{'p99':>8}{'req/s':>9}{'non-2xx':>9}")
    print(
        f"{'GET tasks/status/ (baseline)':<44}{status['p50']:>8.1f}{status['p99']:>8.1f}"
        f"{status['rps']:>9.0f}{status['errors']:>9}"
    )
    print(
        f"{'POST tasks/search/ (new job each)':<44}{submit['p50']:>8.1f}{submit['p99']:>8.1f}"
        f"{submit['rps']:>9.0f}{submit['errors']:>9}"
    )
    print(
        f"{'submit / baseline':<44}{submit['p50'] / status['p50']:>8.2f}{submit['p99'] / status['p99']:>8.2f}"
    )
    print(
        f"{'GET tasks/status/ beside 4 slow aggregates':<44}{status_under_load['p50']:>8.1f}"
        f"{status_under_load['p99']:>8.1f}{status_under_load['rps']:>9.0f}{status_under_load['errors']:>9}"
    )
    print(f"{'  (one slow chip-aggregates, median)':<44}{statistics.median(slow):>8.0f}")
    print(f"\nEnd to end, sequential, {args.jobs} each (ms)")
    print(f"{'':<44}{'median':>8}{'p99':>8}")
    print(
        f"{'search job: submit -> SUCCESS on websocket':<44}{statistics.median(end_to_end):>8.1f}"
        f"{percentile(end_to_end, 99):>8.1f}"
    )
    ping_median, ping_p99 = statistics.median(ping), percentile(ping, 99)
    print(f"{'raw Celery no-op round trip':<44}{ping_median:>8.1f}{ping_p99:>8.1f}")
    print(f"{'job / raw round trip':<44}{statistics.median(end_to_end) / statistics.median(ping):>8.2f}")


if __name__ == "__main__":
    main()
