"""The web server as `make run` and the image start it keeps an idle connection open longer
than the API asks a client to wait.

A client told "429, Retry-After: N" that waits and sends again on its kept-alive connection
must find the connection open: a server that closes it just as the request goes out loses
the request with a reset, and a POST lost so cannot be sent again safely without an
Idempotency-Key. uvicorn's own default idle time is 5 s and gunicorn's 2 s; the active-job
limit asks for up to a minute, as does a per-minute rate.

Both commands take the idle time from WEB_KEEP_ALIVE_SECONDS. The tests read its default from
the commands and watch a short setting hold and then end on live servers: waiting out the
default itself would cost the suite a minute and show nothing more.
"""

from __future__ import annotations

import json
import re
import socket
import sys
import time
from pathlib import Path

import pytest
from stack_commands import load_script, make_run_web_command

from data_processing.limits import ACTIVE_JOBS_RETRY_AFTER_MAX_SECONDS

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


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
    try:
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
    except ConnectionError:  # reset, or a broken pipe on the send
        return b""
    return head.split(b"\r\n", 1)[0]


def test_by_default_both_commands_keep_an_idle_connection_past_the_longest_retry_after(monkeypatch):
    monkeypatch.delenv("WEB_KEEP_ALIVE_SECONDS", raising=False)
    args = make_run_web_command(8000)
    make_run = int(args[args.index("--timeout-keep-alive") + 1])

    assert "--config config/gunicorn.py" in " ".join(image_web_command(8000))
    gunicorn_settings = load_script(ROOT / "config" / "gunicorn.py", "gunicorn_settings")

    compose = (ROOT / "docker-compose.backend.yml").read_text()
    default = re.search(r"WEB_KEEP_ALIVE_SECONDS: \$\{WEB_KEEP_ALIVE_SECONDS:-(\d+)\}", compose)
    in_compose = int(default.group(1))

    idle = {"make run": make_run, "image": gunicorn_settings.keepalive, "compose": in_compose}
    assert all(seconds > ACTIVE_JOBS_RETRY_AFTER_MAX_SECONDS for seconds in idle.values()), idle


def test_both_commands_keep_an_idle_connection_as_long_as_they_are_told(asgi_server_factory, monkeypatch):
    # Longer than either server's own default (uvicorn 5 s, gunicorn 2 s), so the connection
    # still open after 6 s idle shows the setting in force, and closed after 9 s its end.
    keep_alive, within_seconds, past_seconds = 7, 6, 9
    # Read by make run's command line here and by the image's gunicorn settings in the server
    # (the server's environment is a copy of this one).
    monkeypatch.setenv("WEB_KEEP_ALIVE_SECONDS", str(keep_alive))
    monkeypatch.setenv("WEB_CONCURRENCY", "1")
    servers = {
        name: asgi_server_factory(f"web-keep-alive-{name}", command=command)
        for name, command in (("make-run", make_run_web_command), ("image", image_web_command))
    }
    # A server answers its first request only once its worker has started: each answers one
    # first, so that neither's start eats into the other's measured idle time.
    for address in servers.values():
        with connect(address) as sock:
            assert answer_on(sock).startswith(b"HTTP/1.1 404")
    connections = {name: connect(address) for name, address in servers.items()}
    try:
        # Both servers idle through each wait at once.
        first = {name: answer_on(sock) for name, sock in connections.items()}
        time.sleep(within_seconds)
        within = {name: answer_on(sock) for name, sock in connections.items()}
        time.sleep(past_seconds)
        past = {name: answer_on(sock) for name, sock in connections.items()}
    finally:
        for sock in connections.values():
            sock.close()

    answered = [*first.values(), *within.values()]
    assert all(line.startswith(b"HTTP/1.1 404") for line in answered), (first, within)
    assert past == {"make-run": b"", "image": b""}


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
