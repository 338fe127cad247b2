"""bin/flower: Flower starts only behind the basic auth of FLOWER_BASIC_AUTH, unless an operator
explicitly opts out with FLOWER_UNAUTHENTICATED=1."""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
FLOWER = ROOT / "bin" / "flower"
PASSWORD = "correct-horse-battery"


def flower_env(**extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("FLOWER_")}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.test",
        TEST_REDIS_URL=settings.REDIS_URL,
        TEST_CELERY_BROKER_URL=settings.CELERY_BROKER_URL,
        **extra,
    )
    return env


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(url: str, auth: str | None = None) -> int:
    request = urllib.request.Request(url)
    if auth:
        request.add_header("Authorization", "Basic " + base64.b64encode(auth.encode()).decode())
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


@contextmanager
def running_flower(**extra: str) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    port = _free_port()
    process = subprocess.Popen(
        [str(FLOWER), "--address=127.0.0.1"],
        env=flower_env(FLOWER_PORT=str(port), **extra),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and process.poll() is None:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                time.sleep(0.2)
        assert process.poll() is None, process.communicate()[0].decode(errors="replace")[-3000:]
        yield process, url
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
        process.communicate(timeout=30)


def run_flower(**extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(FLOWER)], env=flower_env(**extra), capture_output=True, text=True, timeout=30)


def test_it_refuses_to_start_without_a_login():
    result = run_flower()

    assert result.returncode == 2
    assert "FLOWER_BASIC_AUTH" in result.stderr


@pytest.mark.parametrize("value", ["admin", ":secret", "admin:", "admin:secret,guest"])
def test_it_refuses_a_malformed_login(value):
    result = run_flower(FLOWER_BASIC_AUTH=value)

    assert result.returncode == 2
    assert "user:password" in result.stderr


@pytest.mark.integration
def test_it_asks_for_the_login_and_keeps_the_password_off_the_command_line():
    with running_flower(FLOWER_BASIC_AUTH=f"admin:{PASSWORD}") as (process, url):
        assert get(url) == 401
        assert get(url, f"admin:{PASSWORD}") == 200
        assert get(url, "admin:wrong") == 401
        # bin/flower execs Flower: its pid is Flower's, whose arguments `ps` shows to everyone.
        command_line = Path(f"/proc/{process.pid}/cmdline").read_bytes().decode()
        assert PASSWORD not in command_line


@pytest.mark.integration
def test_it_runs_without_a_login_only_when_explicitly_told_to():
    # Flower reads every FLOWER_* variable as an option and dies on one it does not know, so
    # this also shows that bin/flower keeps FLOWER_UNAUTHENTICATED to itself.
    with running_flower(FLOWER_UNAUTHENTICATED="1") as (_process, url):
        assert get(url) == 200


@pytest.mark.integration
def test_a_running_flower_turns_task_events_on_and_lists_the_tasks_workers_run(worker_factory):
    """Workers send no task events of their own (each would be a broker publish in a job's
    path); Flower asks for them as it starts, and then sees every task."""
    from config.celery_app import app

    queue = "flower-events-test"
    worker = worker_factory("flower-events", queues=queue, concurrency=1)
    app.send_task("celery.accumulate", args=[1], queue=queue).get(timeout=30)
    assert "enabled by remote" not in worker.output()

    auth = f"admin:{PASSWORD}"
    with running_flower(FLOWER_BASIC_AUTH=auth) as (_process, url):
        deadline = time.monotonic() + 45
        listed: set[str] = set()
        sent: set[str] = set()
        while time.monotonic() < deadline and not sent & listed:
            task = app.send_task("celery.accumulate", args=[1], queue=queue)
            task.get(timeout=30)
            sent.add(task.id)
            request = urllib.request.Request(f"{url}api/tasks")
            request.add_header("Authorization", "Basic " + base64.b64encode(auth.encode()).decode())
            with urllib.request.urlopen(request, timeout=5) as response:
                listed = set(json.load(response))
            time.sleep(0.5)
    assert "Events of group {task} enabled by remote" in worker.output()
    assert sent & listed
