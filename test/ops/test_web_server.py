"""The web server as `make run` and the image start it keeps an idle connection open longer
than the API asks a client to wait.

A client told "429, Retry-After: N" that waits and sends again on its kept-alive connection
must find the connection open: a server that closes it just as the request goes out loses
the request with a reset, and a POST lost so cannot be sent again safely without an
Idempotency-Key. uvicorn's own default idle time is 5 s and gunicorn's 2 s; the active-job
limit asks for up to a minute, as does a per-minute rate.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shlex
import socket
import sys
import time
from importlib.machinery import SourceFileLoader
from pathlib import Path

import pytest

from data_processing.limits import ACTIVE_JOBS_RETRY_AFTER_MAX_SECONDS

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
IDLE_SECONDS = ACTIVE_JOBS_RETRY_AFTER_MAX_SECONDS + 1


def make_run_web_command(port: int) -> list[str]:
    """The web process of bin/run-stack's Procfile."""
    path = str(ROOT / "bin" / "run-stack")
    spec = importlib.util.spec_from_loader("run_stack", SourceFileLoader("run_stack", path))
    run_stack = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(run_stack)
    return shlex.split(run_stack.web_command(str(port)))


def image_web_command(port: int) -> list[str]:
    """The image's default command (the Dockerfile's CMD), bound to this machine's loopback."""
    cmd = next(line for line in (ROOT / "Dockerfile").read_text().splitlines() if line.startswith("CMD "))
    args = json.loads(cmd.removeprefix("CMD "))
    assert args[0] == "gunicorn"
    args[args.index("--bind") + 1] = f"127.0.0.1:{port}"
    return [sys.executable, "-m", "gunicorn", *args[1:]]


def connect(address: str) -> socket.socket:
    host, port = address.split(":")
    return socket.create_connection((host, int(port)), timeout=10)


def answer_on(sock: socket.socket) -> bytes:
    """Send one request on ``sock``; its answer's status line, or b"" if the server closed."""
    sock.sendall(b"GET /keep-alive-probe/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    received = b""
    while b"\r\n\r\n" not in received:
        chunk = sock.recv(65536)
        if not chunk:
            return b""
        received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    length = int(re.search(rb"(?im)^content-length: *(\d+)", head).group(1))
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            return b""
        body += chunk
    return head.split(b"\r\n", 1)[0]


def test_an_idle_connection_outlasts_the_longest_wait_a_429_asks_for(asgi_server_factory):
    # Both servers idle through the one wait: a minute of the suite, not two.
    servers = {
        name: asgi_server_factory(
            f"web-keep-alive-{name}", extra_env={"WEB_CONCURRENCY": "1"}, command=command
        )
        for name, command in (("make-run", make_run_web_command), ("image", image_web_command))
    }
    connections = {name: connect(address) for name, address in servers.items()}
    try:
        first = {name: answer_on(sock) for name, sock in connections.items()}
        time.sleep(IDLE_SECONDS)
        again = {name: answer_on(sock) for name, sock in connections.items()}
    finally:
        for sock in connections.values():
            sock.close()

    assert all(line.startswith(b"HTTP/1.1 404") for line in first.values()), first
    closed = [name for name, line in again.items() if not line.startswith(b"HTTP/1.1 404")]
    assert not closed, f"closed the idle connection: {closed}"


def test_a_websocket_message_over_the_limit_closes_the_socket(asgi_server_factory, alice, live_db):
    """Both servers read a frame whole before the consumer sees it: past the project's limit
    they close the socket instead of holding up to uvicorn's default of 16 MiB."""
    from websockets.exceptions import ConnectionClosed
    from websockets.sync.client import connect as ws_connect

    from config.web_server import WEBSOCKET_MAX_MESSAGE_BYTES

    for name, command in (("make-run", make_run_web_command), ("image", image_web_command)):
        one_process = {"WEB_CONCURRENCY": "1"}
        address = asgi_server_factory(f"web-ws-limit-{name}", extra_env=one_process, command=command)
        url = f"ws://{address}/ws/tasks/status/?token={alice.auth_token.key}"
        with ws_connect(url, open_timeout=10) as ws:
            ws.send("x" * 10_000)  # too long for the consumer, within the server's limit
            assert json.loads(ws.recv(timeout=10))["code"] == "invalid_frame"
            ws.send("x" * (WEBSOCKET_MAX_MESSAGE_BYTES + 1))
            with pytest.raises(ConnectionClosed) as closed:
                ws.recv(timeout=10)
        assert closed.value.rcvd.code == 1009, name  # "message too big"
