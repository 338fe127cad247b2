#!/usr/bin/env python
"""What the async path adds to a chip query: the same request as a job, beside the synchronous answer.

Not a test: a benchmark that prints figures. On the database that bench_chip_endpoints.py
fills (1,000,000 generated contracts by default), it serves the API with uvicorn (one
process) and runs one Celery worker, then, for the three chip endpoints and five filter
sets, times sequentially:

- sync: the chip endpoint answering in the request;
- async: the same body with ``"async_mode": true`` → 202 → SUCCESS on the websocket, which
  carries the answer; the result cache emptied first so the worker computes it every time;
- the same, with the answer also read from GET tasks/result/ after SUCCESS (what a client
  does when the answer is too large to come with the update).

Every cell runs once, untimed, before any is timed, so that no cell pays for opening the
snapshot or reading its pages from disk.

The requests go back to back by default. ``--pause-ms`` idles the client before each of
them, as a person between clicks: every answer is then slower, since on these virtual
machines a core idle for a while sleeps deeper (a pipe round trip between two processes
took 3 µs back to back and 71 µs after 50 ms idle) and caches go cold. Both requests of a
cell pause alike, so the difference between them still measures the async path.

It prints the medians and the differences (the async path's overhead, with the answer in
the update and with it read after), beside a raw Celery round trip through the same broker.

    .venv/bin/python test/bench_async_path.py [--database bench_x] [--rows N] [--samples 15] [--pause-ms 50]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx
import redis
from websockets.sync.client import connect

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent / "support"))
from bench_chip_endpoints import (
    ENDPOINTS,
    PG,
    ROOT,
    body,
    ensure_database,
    ensure_the_snapshot,
    filter_sets,
    percentile,
    serve,
)
from stack_commands import make_run_worker_options

TASKS = "/api/v1/data-processing/tasks"
FINISHED = ("SUCCESS", "FAILURE")


def start_worker(env: dict[str, str]) -> subprocess.Popen:
    log = (ROOT / "var" / "bench-async-worker.log").open("w")
    return subprocess.Popen(
        [
            *(sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", "interactive"),
            *("-c", "2", "-n", "bench-async@%h", *make_run_worker_options(), "-l", "warning"),
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=15)
    parser.add_argument("--pause-ms", type=float, default=0, help="idle time before each request")
    parser.add_argument("--database", default="philgeps_bench")
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--redis-db", type=int, default=11, help="Redis database: cache, broker, channels")
    args = parser.parse_args()

    redis_url = f"redis://127.0.0.1:6379/{args.redis_db}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DJANGO_DEBUG": "false",
        "DATABASE_URL": f"{PG}/{args.database}",
        "REDIS_URL": redis_url,
        "CELERY_BROKER_URL": redis_url,
        "CELERY_RESULT_BACKEND": redis_url,
        "LOG_LEVEL": "WARNING",
        "CHIP_THROTTLE_RATE": "100000000/min",
        "JOB_SUBMIT_THROTTLE_RATE": "100000000/min",
    }
    (ROOT / "var").mkdir(exist_ok=True)
    ensure_database(args.database, args.rows, env)
    ensure_the_snapshot(env)
    chosen = filter_sets(args.database)
    token = env["BENCH_TOKEN"]
    cache = redis.Redis.from_url(redis_url)
    cache.flushdb()  # the benchmark's own database: no answer left cached by an earlier run
    server = serve(env, args.port)
    worker = start_worker(env)
    base = f"http://127.0.0.1:{args.port}"
    try:
        os.environ.update(env)
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        from config.celery_app import app

        app.send_task("celery.accumulate", args=[1], queue="interactive").get(timeout=120)  # worker up
        ping = []
        for _ in range(args.samples + 2):
            started = time.perf_counter()
            app.send_task("celery.accumulate", args=[1], queue="interactive").get(timeout=30)
            ping.append((time.perf_counter() - started) * 1000)
        ping = ping[2:]
        headers = {"Authorization": f"Bearer {token}"}
        ws_url = f"ws://127.0.0.1:{args.port}/ws/tasks/status/?token={token}"
        print(f"\n{args.rows:,} contracts; one uvicorn process, one worker (2 processes); "
              f"{args.samples} sequential requests per cell, {args.pause_ms:g} ms apart; "
              "median / p90 ms")  # fmt: skip
        print(f"raw Celery round trip (baseline): {statistics.median(ping):.1f} / {percentile(ping, 90):.1f}")
        print(
            f"{'endpoint':<28}{'filters':<17}{'sync':>14}{'async':>14}{'async - sync':>14}"
            f"{'+ result/':>14}{'- sync':>9}"
        )
        overheads = []
        read_overheads = []
        with httpx.Client(base_url=base, headers=headers, timeout=300) as client, connect(ws_url) as ws:

            def one_round(url: str, request: dict) -> tuple[float, float, float]:
                """One sync answer and one async answer of a request, in ms: the async one
                when the answer came with the SUCCESS update, and when read after it."""
                time.sleep(args.pause_ms / 1000)
                started = time.perf_counter()
                synchronous = client.post(url, json=request)
                synchronous.raise_for_status()
                sync_ms = (time.perf_counter() - started) * 1000
                time.sleep(args.pause_ms / 1000)
                started = time.perf_counter()
                queued = client.post(url, json={**request, "async_mode": True})
                queued.raise_for_status()
                answer = queued.json()
                if answer["status"] == "cached":
                    sys.exit("the result cache answered: this cell measures nothing")
                while True:
                    message = json.loads(ws.recv(timeout=300))
                    if message.get("task_id") == answer["task_id"] and message["state"] in FINISHED:
                        break
                if "data" not in message:
                    sys.exit(f"the SUCCESS update carried no answer: {message}")
                frame_ms = (time.perf_counter() - started) * 1000
                result = client.get(f"{TASKS}/result/", params={"cache_key": answer["cache_key"]})
                result.raise_for_status()
                read_ms = (time.perf_counter() - started) * 1000
                # One answer three ways: the synchronous body, the update's and result/'s data.
                assert message["data"] == result.json()["data"] == synchronous.json(), url
                cache.delete(answer["cache_key"])  # the next one computes again
                return sync_ms, frame_ms, read_ms

            cells = [
                (endpoint, name, f"/api/v1/contracts/{endpoint}/", body(endpoint, filters))
                for endpoint in ENDPOINTS
                for name, filters in chosen.items()
            ]
            # Every cell once before any is timed: the server and the worker each open the
            # snapshot on first use, and its pages come from disk until every query has run.
            for _, _, url, request in cells:
                one_round(url, request)
            for endpoint, name, url, request in cells:
                rounds = [one_round(url, request) for _ in range(args.samples)]
                sync = [sync_ms for sync_ms, _, _ in rounds]
                asynchronous = [frame_ms for _, frame_ms, _ in rounds]
                read = [read_ms for _, _, read_ms in rounds]
                overhead = statistics.median(asynchronous) - statistics.median(sync)
                read_overhead = statistics.median(read) - statistics.median(sync)
                overheads.append(overhead)
                read_overheads.append(read_overhead)
                print(
                    f"{endpoint:<28}{name:<17}"
                    f"{statistics.median(sync):>7.1f} /{percentile(sync, 90):>5.0f}"
                    f"{statistics.median(asynchronous):>7.1f} /{percentile(asynchronous, 90):>5.0f}"
                    f"{overhead:>14.1f}{statistics.median(read):>14.1f}{read_overhead:>9.1f}",
                    flush=True,
                )
        middle, worst = statistics.median(overheads), max(overheads)
        print(f"async - sync over the cells: median {middle:.1f}, max {worst:.1f}")
        middle, worst = statistics.median(read_overheads), max(read_overheads)
        print(f"with the result/ read after SUCCESS: median {middle:.1f}, max {worst:.1f}")
    finally:
        for process in (server, worker):
            process.terminate()
            process.wait()
        cache.close()


if __name__ == "__main__":
    main()
