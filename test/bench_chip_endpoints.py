#!/usr/bin/env python
"""Latency of the synchronous chip endpoints on 1,000,000 generated contracts (PostgreSQL).

Not a test: a benchmark that prints figures. It creates (once) the database
`philgeps_bench`, generates 1M contracts into it, serves the API with uvicorn, and times
each endpoint for a handful of realistic filter sets with a sequential keep-alive client
(latency, not throughput). Ratios are to a minimal authenticated endpoint measured in the
same run, because absolute figures swing up to 2x between runs on these machines.

    make bench            # or: .venv/bin/python test/bench_chip_endpoints.py [--rows N] [--samples N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psycopg

ROOT = Path(__file__).resolve().parent.parent
PG = "postgres://postgres@127.0.0.1:5432"

FILTER_SETS = {
    "none": {},
    "one area": {"areas": ["Metro Manila"]},
    "category + year": {"business_categories": ["Construction Projects"], "time_ranges": ["2023"]},
    "keyword": {"keywords": ["road"]},
}


def percentile(samples: list[float], pct: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def ensure_database(name: str, rows: int, env: dict[str, str]) -> None:
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
    with psycopg.connect(f"{PG}/{name}") as conn:
        have = conn.execute("SELECT count(*) FROM contracts_contract").fetchone()[0]
    if have != rows:
        print(f"Generating {rows:,} contracts into {name} (have {have:,})…", flush=True)
        started = time.perf_counter()
        subprocess.run(
            [
                *manage,
                "generate_contracts",
                "--count",
                str(rows),
                "--seed",
                "42",
                "--replace",
                "--no-progress",
            ],
            cwd=ROOT,
            env=env,
            check=True,
        )
        print(f"  generated in {time.perf_counter() - started:.1f} s", flush=True)
    token = subprocess.run(
        [*manage, "ensure_demo_user", "--username", "bench", "--password", "bench-password", "--token-only"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    env["BENCH_TOKEN"] = token.stdout.strip()


def serve(env: dict[str, str], port: int) -> subprocess.Popen:
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "config.asgi:application",
            "--port",
            str(port),
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    for _ in range(100):
        try:
            httpx.get(f"http://127.0.0.1:{port}/api/v1/schema/", timeout=1)
            return server
        except httpx.HTTPError:
            time.sleep(0.2)
    server.kill()
    sys.exit("the server did not start")


def time_requests(
    client: httpx.Client, method: str, url: str, body: dict | None, samples: int
) -> list[float]:
    client.request(method, url, json=body)  # warm-up: connection, plans, caches
    timings = []
    for _ in range(samples):
        started = time.perf_counter()
        response = client.request(method, url, json=body)
        timings.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=30)
    parser.add_argument("--database", default="philgeps_bench")
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DJANGO_DEBUG": "false",
        "DATABASE_URL": f"{PG}/{args.database}",
        "LOG_LEVEL": "WARNING",
    }
    ensure_database(args.database, args.rows, env)
    server = serve(env, args.port)
    base = f"http://127.0.0.1:{args.port}/api/v1/contracts"
    headers = {"Authorization": f"Bearer {env['BENCH_TOKEN']}"}
    try:
        with httpx.Client(headers=headers, timeout=120) as client:
            baseline = time_requests(
                client, "GET", f"{base}/filter-options/?field=areas&q=zz&limit=1", None, args.samples * 3
            )
            base_median = statistics.median(baseline)
            print(f"\n{args.rows:,} contracts; {args.samples} sequential requests per row; times in ms\n")
            print(f"{'endpoint':<28}{'filters':<18}{'median':>9}{'p99':>9}{'x baseline':>12}")
            print(
                f"{'baseline: filter-options':<28}{'(1 row)':<18}{base_median:>9.1f}"
                f"{percentile(baseline, 99):>9.1f}{1:>12.1f}"
            )
            cases = []
            for name, filters in FILTER_SETS.items():
                cases.append(("chip-search", name, {"filters": {**filters, "page_size": 20}}))
            for name, filters in FILTER_SETS.items():
                cases.append(("chip-aggregates", name, {"filters": filters}))
            for name, filters in FILTER_SETS.items():
                cases.append(
                    (
                        "chip-aggregates-paginated",
                        name,
                        {"filters": filters, "entity_type": "contractor", "page_size": 20},
                    )
                )
            for endpoint, name, body in cases:
                samples = time_requests(client, "POST", f"{base}/{endpoint}/", body, args.samples)
                median = statistics.median(samples)
                print(
                    f"{endpoint:<28}{name:<18}{median:>9.1f}{percentile(samples, 99):>9.1f}"
                    f"{median / base_median:>12.1f}",
                    flush=True,
                )
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
