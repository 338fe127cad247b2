"""The websocket under hostile use: bad frames, foreign origins, tokens in odd places,
abrupt ends, more sockets than allowed, and two deployments on one Redis."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from asgiref.sync import async_to_sync
from asgiref.testing import ApplicationCommunicator
from channels.layers import get_channel_layer
from django.test import Client, override_settings
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from config.logging_filters import redact
from data_processing import socket_limits
from data_processing.consumers import JobStatusConsumer
from data_processing.events import user_group

ROOT = Path(__file__).resolve().parents[2]
SERVER_LOG = ROOT / "test-artifacts" / "asgi.log"


def open_socket(address: str, query: str = "", **kwargs):
    return connect(f"ws://{address}/ws/tasks/status/{query}", open_timeout=10, **kwargs)


def receive(ws, timeout: float = 10) -> dict:
    return json.loads(ws.recv(timeout=timeout))


def still_alive(ws) -> bool:
    ws.send(json.dumps({"action": "ping"}))
    return receive(ws) == {"type": "pong"}


@pytest.mark.integration
@pytest.mark.parametrize(
    ("frame", "code"),
    [
        (b"\x00\x01binary", "invalid_frame"),
        ("not json", "invalid_json"),
        ("[" * 3000, "invalid_json"),
        ("x" * 10_000, "invalid_frame"),
        ('"\\ud800"', "unknown_action"),
    ],
    ids=["binary", "text", "deep", "large", "surrogate"],
)
def test_a_bad_frame_gets_an_error_and_the_socket_lives_on(asgi_server, alice, live_db, frame, code):
    with open_socket(asgi_server, f"?token={alice.auth_token.key}") as ws:
        ws.send(frame)
        error = receive(ws)
        assert error["type"] == "error" and error["code"] == code
        assert still_alive(ws)


@pytest.mark.integration
def test_the_origin_must_match_scheme_host_and_port(asgi_server, alice, live_db):
    client = Client()
    client.force_login(alice)
    cookie = {"Cookie": f"sessionid={client.cookies['sessionid'].value}"}
    host = asgi_server.split(":")[0]

    with open_socket(asgi_server, additional_headers=cookie, origin=f"http://{asgi_server}") as ws:
        assert still_alive(ws)
    for foreign in (f"http://{host}:9999", f"http://{host}", f"https://{asgi_server}", "http://evil.example"):
        with pytest.raises(InvalidStatus) as refused:
            open_socket(asgi_server, additional_headers=cookie, origin=foreign)
        assert refused.value.response.status_code == 403, foreign


@pytest.mark.integration
def test_a_token_can_travel_as_a_subprotocol_outside_the_url(asgi_server, alice, live_db):
    with open_socket(asgi_server, subprotocols=["bearer", alice.auth_token.key]) as ws:
        assert ws.subprotocol == "bearer"
        assert still_alive(ws)
    with pytest.raises(InvalidStatus):
        open_socket(asgi_server, subprotocols=["bearer", "not-a-token"])


@pytest.mark.integration
def test_a_token_under_an_encoded_name_neither_authenticates_nor_reaches_the_log(asgi_server, alice, live_db):
    token = alice.auth_token.key
    for query in (f"?tok%65n={token}", f"?TOK%2565N={token}"):
        with pytest.raises(InvalidStatus):
            open_socket(asgi_server, query)
    with open_socket(asgi_server, f"?token={token}") as ws:
        assert still_alive(ws)
    time.sleep(0.3)
    assert token not in SERVER_LOG.read_text()


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('"WebSocket /ws/?tok%65n=abc" 403', '"WebSocket /ws/?tok%65n=[redacted]" 403'),
        ("/ws/?a=1&TOK%2565N=abc&b=2", "/ws/?a=1&TOK%2565N=[redacted]&b=2"),
        ("/x?access%5Ftoken=abc", "/x?access%5Ftoken=[redacted]"),
        ("/x?tokens=abc", "/x?tokens=abc"),
    ],
)
def test_secrets_are_redacted_whatever_the_encoding_of_their_name(line, expected):
    assert redact(line) == expected


@override_settings(CHANNEL_LAYERS={"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}})
def test_the_group_is_left_even_when_the_socket_ends_without_a_close(alice):
    async def scenario() -> tuple[int, int]:
        scope = {"type": "websocket", "path": "/ws/tasks/status/", "user": alice, "subprotocols": []}
        communicator = ApplicationCommunicator(JobStatusConsumer.as_asgi(), scope)
        await communicator.send_input({"type": "websocket.connect"})
        assert (await communicator.receive_output(timeout=5))["type"] == "websocket.accept"
        layer = get_channel_layer()
        members_while_open = len(layer.groups.get(user_group(alice.pk), {}))
        communicator.future.cancel()  # the connection vanishes: no close frame, no disconnect event
        with pytest.raises(asyncio.CancelledError):
            await communicator.future
        return members_while_open, len(layer.groups.get(user_group(alice.pk), {}))

    assert async_to_sync(scenario)() == (1, 0)
    assert socket_limits.open_sockets(alice.pk) == 0


def wait_for_place(address: str, token: str, timeout: float = 10):
    """A socket opened as soon as the server has freed a place for it."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return open_socket(address, f"?token={token}")
        except InvalidStatus:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


@pytest.mark.integration
def test_a_user_holds_at_most_so_many_sockets_and_a_closed_one_frees_its_place(
    asgi_server_factory, alice, bob, live_db
):
    address = asgi_server_factory("asgi-two-sockets", extra_env={"WEBSOCKET_MAX_PER_USER": "2"})
    token = alice.auth_token.key
    with contextlib.ExitStack() as sockets:
        first = sockets.enter_context(open_socket(address, f"?token={token}"))
        second = sockets.enter_context(open_socket(address, f"?token={token}"))
        assert still_alive(first) and still_alive(second)

        with pytest.raises(InvalidStatus) as refused:
            open_socket(address, f"?token={token}")
        response = refused.value.response
        assert response.status_code == 429
        assert response.headers["Content-Type"] == "application/json"
        body = json.loads(response.body)
        assert body["status"] == "error" and body["code"] == "too_many_sockets"
        assert "WEBSOCKET_MAX_PER_USER" in body["message"]
        with open_socket(address, f"?token={bob.auth_token.key}") as other_user:
            assert still_alive(other_user)
        assert still_alive(first) and still_alive(second)

        first.close()
        third = sockets.enter_context(wait_for_place(address, token))
        assert still_alive(third)
        # A client that vanishes without a close frame frees its place too.
        second.socket.close()
        fourth = sockets.enter_context(wait_for_place(address, token))
        assert still_alive(fourth)


@override_settings(
    CHANNEL_LAYERS={"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}},
    WEBSOCKET_MAX_PER_USER=1,
)
def test_over_the_limit_a_server_without_denial_responses_refuses_with_a_plain_close(alice):
    async def scenario() -> tuple[str, str, int]:
        scope = {"type": "websocket", "path": "/ws/tasks/status/", "user": alice, "subprotocols": []}
        held = ApplicationCommunicator(JobStatusConsumer.as_asgi(), scope)
        await held.send_input({"type": "websocket.connect"})
        accepted = (await held.receive_output(timeout=5))["type"]
        refused = ApplicationCommunicator(JobStatusConsumer.as_asgi(), scope)
        await refused.send_input({"type": "websocket.connect"})
        closed = (await refused.receive_output(timeout=5))["type"]
        await refused.send_input({"type": "websocket.disconnect", "code": 1006})
        await refused.wait(timeout=5)
        still_counted = socket_limits.open_sockets(alice.pk)
        await held.send_input({"type": "websocket.disconnect", "code": 1000})
        await held.wait(timeout=5)
        return accepted, closed, still_counted

    assert async_to_sync(scenario)() == ("websocket.accept", "websocket.close", 1)
    assert socket_limits.open_sockets(alice.pk) == 0


def test_the_channel_prefix_is_set_per_deployment():
    code = "from django.conf import settings; print(settings.CHANNEL_LAYERS['default']['CONFIG']['prefix'])"
    env = {"DJANGO_SETTINGS_MODULE": "config.settings.local", "CHANNEL_LAYER_PREFIX": "philgeps-staging"}
    out = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "philgeps-staging"
