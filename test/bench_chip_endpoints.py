#!/usr/bin/env python
"""Latency of the synchronous chip endpoints on 1,000,000 generated contracts (PostgreSQL).

Not a test: a benchmark that prints figures. It creates (once) the database
`philgeps_bench`, generates 1M contracts into it (which builds their columnar snapshot),
serves the API with uvicorn (one process), and times the three chip endpoints for five
realistic filter sets with a sequential keep-alive client (latency, not throughput):
median and p90, beside a minimal authenticated endpoint measured in the same run (absolute
figures swing up to 2x between runs on these machines) and beside the figures of the
DuckDB-over-Parquet dashboard this one replaces ("original", same rows and machine).

    make bench            # or: .venv/bin/python test/bench_chip_endpoints.py [--rows N] [--samples N]
    --engines columnar,database   also time the database engine (the columnar one switched off)
    --rebuild                     bump the dataset version and time the snapshot rebuild
                                  while a client keeps querying (before / during / after)
    --rebuild-only                that measurement alone, without the table
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
PG = "postgres://postgres@127.0.0.1:5432"

# The filter sets every benchmark times, but "one contractor", which names a contractor of
# the database at hand (filter_sets).
FILTER_SETS = {
    "none": {},
    "one area": {"areas": ["Metro Manila"]},
    "category + year": {"business_categories": ["Construction Projects"], "time_ranges": ["2023"]},
    "keyword": {"keywords": ["road"]},
}
ENDPOINTS = ("chip-search", "chip-aggregates", "chip-aggregates-paginated")
# The original dashboard (DuckDB over one Parquet file, in-process) on the same 1M rows, median ms.
ORIGINAL_MS = {
    ("none", "chip-search"): 109,
    ("none", "chip-aggregates"): 271,
    ("none", "chip-aggregates-paginated"): 100,
    ("one area", "chip-search"): 153,
    ("one area", "chip-aggregates"): 177,
    ("one area", "chip-aggregates-paginated"): 73,
    ("category + year", "chip-search"): 175,
    ("category + year", "chip-aggregates"): 143,
    ("category + year", "chip-aggregates-paginated"): 59,
    ("keyword", "chip-search"): 645,
    ("keyword", "chip-aggregates"): 1984,
    ("keyword", "chip-aggregates-paginated"): 323,
    ("one contractor", "chip-search"): 177,
    ("one contractor", "chip-aggregates"): 134,
    ("one contractor", "chip-aggregates-paginated"): 38,
}


def body(endpoint: str, filters: dict) -> dict:
    if endpoint == "chip-search":
        return {"filters": {**filters, "page_size": 20}}
    if endpoint == "chip-aggregates":
        return {"filters": filters, "top_n": 20}
    return {"filters": filters, "entity_type": "contractor", "page_size": 20}


def filter_sets(database: str) -> dict[str, dict]:
    """FILTER_SETS and "one contractor": the contractor of ``database`` with about 150 contracts."""
    return {**FILTER_SETS, "one contractor": {"contractors": [contractor_near(database, 150)]}}


def contractor_near(database: str, rows: int) -> str:
    """The contractor whose contract count is closest to `rows`."""
    with psycopg.connect(f"{PG}/{database}") as conn:
        return conn.execute(
            "SELECT c.name FROM contracts_contractor c JOIN contracts_contract k ON k.contractor_id = c.id "
            "GROUP BY c.id, c.name ORDER BY abs(count(*) - %s), c.id LIMIT 1",
            [rows],
        ).fetchone()[0]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def timed(call: Callable[[], object], samples: int) -> list[float]:
    """ms of each of ``samples`` calls, after one call that warms caches and plans."""
    call()
    times = []
    for _ in range(samples):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return times


def percentile(samples: list[float], pct: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def create_database(url: str) -> None:
    """Create the database a PostgreSQL URL names, on that server, unless it exists."""
    server, name = url.rsplit("/", 1)
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def ensure_database(name: str, rows: int, env: dict[str, str]) -> None:
    """Create, migrate and fill the database with ``rows`` generated contracts when it does
    not hold them; puts the benchmark user's API token in ``env["BENCH_TOKEN"]``."""
    create_database(f"{PG}/{name}")
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


def setup_django_on(database: str, rows: int) -> None:
    """For a benchmark that calls selectors in this process: ``database`` filled with ``rows``
    generated contracts when it does not hold them, and Django set up on it with DEBUG off
    (with it on, Django would keep every query it ran)."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DJANGO_DEBUG": "false",
        "DATABASE_URL": f"{PG}/{database}",
        "LOG_LEVEL": "WARNING",
        "METRICS_DIRECTORY": "",
    }
    ensure_database(database, rows, env)
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def serve(env: dict[str, str], port: int, columnar: bool = True) -> subprocess.Popen:
    env = {**env, "COLUMNAR_ENABLED": "true" if columnar else "false"}
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
    parser.add_argument("--engines", default="columnar", help="columnar,database")
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--rebuild-only", action="store_true", help="skip the table, time the rebuild only")
    args = parser.parse_args()

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DJANGO_DEBUG": "false",
        "DATABASE_URL": f"{PG}/{args.database}",
        "LOG_LEVEL": "WARNING",
        # One client sends hundreds of queries a minute here: lift the per-user chip limit.
        "CHIP_THROTTLE_RATE": "100000000/min",
        # No worker runs here: the process that commits a version builds its snapshot (the
        # --rebuild figure is that build; in production a worker does it).
        "COLUMNAR_BUILD_IN_WORKER": "false",
    }
    ensure_database(args.database, args.rows, env)
    chosen = filter_sets(args.database)
    headers = {"Authorization": f"Bearer {env['BENCH_TOKEN']}"}
    engines = args.engines.split(",")
    medians: dict[tuple[str, str, str], float] = {}
    print(f"\n{args.rows:,} contracts; one uvicorn process; {args.samples} sequential requests per cell; ms")
    print(f'"one contractor" is {chosen["one contractor"]["contractors"][0]!r}')
    for engine in engines:
        if engine == "columnar":
            ensure_the_snapshot(env)
        server = serve(env, args.port, columnar=engine == "columnar")
        base = f"http://127.0.0.1:{args.port}/api/v1/contracts"
        try:
            with httpx.Client(headers=headers, timeout=300) as client:
                baseline = time_requests(
                    client, "GET", f"{base}/filter-options/?field=areas&q=zz&limit=1", None, args.samples
                )
                print(f"\nengine: {engine}")
                print(f"{'endpoint':<28}{'filters':<17}{'median':>8}{'p90':>8}{'original':>10}{'x orig':>8}")
                print(
                    f"{'baseline: filter-options':<28}{'(1 row)':<17}{statistics.median(baseline):>8.1f}"
                    f"{percentile(baseline, 90):>8.1f}"
                )
                for endpoint in () if args.rebuild_only else ENDPOINTS:
                    for name, filters in chosen.items():
                        url = f"{base}/{endpoint}/"
                        samples = time_requests(client, "POST", url, body(endpoint, filters), args.samples)
                        median = statistics.median(samples)
                        medians[(engine, endpoint, name)] = median
                        original = ORIGINAL_MS[(name, endpoint)]
                        print(
                            f"{endpoint:<28}{name:<17}{median:>8.1f}{percentile(samples, 90):>8.1f}"
                            f"{original:>10}{original / median:>8.1f}",
                            flush=True,
                        )
                print(f"server resident memory after the runs: {rss_mb(server.pid):.0f} MB")
                if (args.rebuild or args.rebuild_only) and engine == "columnar":
                    time_rebuild(client, base, env, args.samples)
        finally:
            server.terminate()
            server.wait()


def ensure_the_snapshot(env: dict[str, str]) -> None:
    """Build the current version's columnar snapshot unless it exists, before the server
    starts. A server that finds none builds it at its first query and the database answers
    meanwhile, under the same version headers, so its times would pass for the columnar
    engine's (at 5.5M rows a keyword search took seconds). A failed build stops the run."""
    build = "from contracts.columnar import build_snapshot; assert build_snapshot() is not None"
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "manage.py", "shell", "--verbosity", "0", "-c", build],
        cwd=ROOT,
        env={**env, "COLUMNAR_ENABLED": "true"},
        check=True,
    )
    print(f"  columnar snapshot ready in {time.perf_counter() - started:.1f} s", flush=True)


REBUILD_FILTER_SETS = ("none", "one area")
VERSION_HEADERS = ("X-Dataset-Version", "X-Dataset-Current-Version")


def time_rebuild(client: httpx.Client, base: str, env: dict[str, str], samples: int) -> None:
    """Bump the dataset version (its snapshot is rebuilt after commit) while querying non-stop.

    The contractor table, unfiltered and for one area in turn: its latency during the
    rebuild beside the same requests before the bump and after it, and which dataset version
    answered (the X-Dataset-Version header).
    """
    url = f"{base}/chip-aggregates-paginated/"
    requests = {name: body("chip-aggregates-paginated", FILTER_SETS[name]) for name in REBUILD_FILTER_SETS}
    before = {name: time_requests(client, "POST", url, requests[name], samples) for name in requests}
    bump = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import django, time; django.setup(); from contracts.models import DatasetVersion; "
            "t = time.perf_counter(); DatasetVersion.bump(); "
            "print(f'{time.perf_counter() - t:.1f}')",
        ],
        cwd=ROOT,
        env={**env, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        text=True,
    )
    during: dict[str, list[float]] = {name: [] for name in requests}
    failures, answered_by = 0, {}
    while bump.poll() is None:
        for name, request in requests.items():
            started = time.perf_counter()
            response = client.post(url, json=request)
            during[name].append((time.perf_counter() - started) * 1000)
            failures += response.status_code != 200
            label = "v{} of v{}".format(*(response.headers.get(h, "?") for h in VERSION_HEADERS))
            answered_by[label] = answered_by.get(label, 0) + 1
    build_seconds = bump.stdout.read().strip()
    after = {name: time_requests(client, "POST", url, requests[name], samples) for name in requests}
    total = sum(len(timings) for timings in during.values())
    print(f"\nsnapshot rebuild after a version bump: {build_seconds} s (bump, commit and build)")
    print(f"contractor table: {total} requests during the rebuild, {failures} failed; ms")
    print(f"{'filters':<12}{'':<22}{'requests':>9}{'median':>9}{'p90':>9}{'max':>9}")
    phases = (("before (baseline)", before), ("during the rebuild", during), ("after", after))
    for name in requests:
        for phase, timings in phases:
            figures = timings[name]
            print(
                f"{name:<12}{phase:<22}{len(figures):>9}{statistics.median(figures):>9.1f}"
                f"{percentile(figures, 90):>9.1f}{max(figures):>9.1f}"
            )
    shares = ", ".join(f"{label}: {n}" for label, n in answered_by.items())
    print(f"answered during the rebuild by (dataset version of current): {shares}")


if __name__ == "__main__":
    main()
