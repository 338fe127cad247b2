"""A submit still in its view when the web server stops, its client gone, is queued.

A second signal (Ctrl-C pressed twice; on `make run` one from the terminal and one from the
server's supervisor) makes uvicorn stop without waiting for requests in flight, and cancel
them. A request whose client had gone was then cancelled twice, and Django closed its body
file while a synchronous view still ran on its thread: the submit failed on reading a
closed file, logged as a server error (config/asgi_handler.py reads bodies ahead for that)."""

from __future__ import annotations

import json
import os
import signal
import socket

import psycopg
import pytest
from job_helpers import blocked_backend_pids, dsn, wait_until

from data_processing.models import Job

pytestmark = pytest.mark.integration


def test_a_submit_in_flight_when_the_server_stops_is_queued_not_a_server_error(
    asgi_server_to_stop, django_user_model, live_db
):
    from rest_framework.authtoken.models import Token

    server, address = asgi_server_to_stop
    user = django_user_model.objects.create_user(username="leaves-early")
    token = Token.objects.create(user=user).key  # new to the server: looked up in the database
    body = json.dumps({"filters": {"keywords": ["road"]}}).encode()
    request = (
        "POST /api/v1/data-processing/tasks/search/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body

    with psycopg.connect(dsn()) as held:
        # The view waits in its token look-up, past the point where Django read the body.
        held.execute("LOCK TABLE authtoken_token IN ACCESS EXCLUSIVE MODE")
        host, port = address.split(":")
        with socket.create_connection((host, int(port)), timeout=10) as client:
            client.sendall(request)
            wait_until(blocked_backend_pids, timeout=10, what="the view to wait for the lock")
        for _ in range(2):
            os.kill(server.proc.pid, signal.SIGINT)
        wait_until(lambda: "Finished server process" in server.output(), timeout=10, what="uvicorn to stop")
        held.rollback()  # the view goes on, after its request was cancelled
    server.proc.wait(timeout=30)

    assert Job.objects.filter(owner=user, kind="search").count() == 1
    assert "Traceback" not in server.output()
