"""ws/tasks/status/ through a real ASGI server, with updates published by a real worker."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from django.test import Client
from job_helpers import wait_for_state
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from data_processing.models import JobState

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("celery_worker_process")]


def open_socket(address: str, *, token: str | None = None, **kwargs):
    query = f"?token={token}" if token else ""
    return connect(f"ws://{address}/ws/tasks/status/{query}", open_timeout=10, **kwargs)


def receive(ws, timeout: float = 10) -> dict:
    return json.loads(ws.recv(timeout=timeout))


def updates_until_done(ws, task_id: str, timeout: float = 30) -> list[dict]:
    """Every update of one job, until it reaches a terminal state."""
    seen: list[dict] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        message = receive(ws, timeout=max(0.1, deadline - time.monotonic()))
        if message.get("task_id") == task_id:
            seen.append(message)
            if message["state"] in ("SUCCESS", "FAILURE", "REVOKED"):
                return seen
    raise AssertionError(f"no terminal update for {task_id}; saw {seen}")


def test_an_anonymous_connection_is_refused(asgi_server, live_db):
    with pytest.raises(InvalidStatus) as refused:
        open_socket(asgi_server)
    assert refused.value.response.status_code == 403


def test_an_unknown_path_is_refused_at_the_handshake_not_a_server_error(asgi_server, alice, live_db):
    log = Path(__file__).resolve().parents[2] / "test-artifacts" / "asgi.log"
    for path in ("ws/tasks/", "ws/nothing/here/", ""):
        with pytest.raises(InvalidStatus) as refused:
            connect(f"ws://{asgi_server}/{path}?token={alice.auth_token.key}", open_timeout=10)
        assert refused.value.response.status_code == 403
    time.sleep(0.2)

    assert "No route found" not in log.read_text()


def test_a_wrong_token_is_refused(asgi_server, live_db):
    with pytest.raises(InvalidStatus):
        open_socket(asgi_server, token="not-a-token")


def test_progress_arrives_live_monotonic_and_ends_at_100(asgi_server, alice, alice_client, many_contracts):
    with open_socket(asgi_server, token=alice.auth_token.key) as ws:
        task_id = alice_client.post(
            "/api/v1/data-processing/tasks/export/", {"filters": {}}, format="json"
        ).json()["task_id"]
        updates = updates_until_done(ws, task_id)

    progress = [update["progress"] for update in updates]
    assert updates[-1]["state"] == "SUCCESS"
    assert progress[-1] == 100
    assert progress == sorted(progress)
    assert any(0 < p < 100 for p in progress), progress
    assert {"type", "task_id", "state", "progress", "status", "cache_key", "error"} <= set(updates[-1])


@pytest.mark.parametrize(
    "kind, body, counted_at",
    [
        ("search", {"filters": {"page_size": 5}}, ("pagination", "total_count")),
        # Reports progress on the way.
        ("analytics", {"filters": {}, "top_n": 3}, ("summary", "count")),
    ],
)
def test_the_success_update_carries_the_answer_that_result_serves(
    asgi_server, alice, alice_client, sample_contracts, kind, body, counted_at
):
    with open_socket(asgi_server, token=alice.auth_token.key) as ws:
        queued = alice_client.post(f"/api/v1/data-processing/tasks/{kind}/", body, format="json").json()
        updates = updates_until_done(ws, queued["task_id"])
        # A subscribe answer is the job's state only: the answer is for the live update.
        ws.send(json.dumps({"action": "subscribe", "task_id": queued["task_id"]}))
        subscribed = receive(ws)
    result = alice_client.get("/api/v1/data-processing/tasks/result/", {"cache_key": queued["cache_key"]})

    *running, done = updates
    assert done["state"] == "SUCCESS"
    assert done["data"] == result.json()["data"]
    section, count = counted_at
    assert done["data"][section][count] == len(sample_contracts)
    assert running and all("data" not in update for update in running)
    assert (subscribed["state"], "data" in subscribed) == ("SUCCESS", False)


def test_subscribing_to_a_finished_job_answers_at_once_with_its_state(
    asgi_server, alice, alice_client, sample_contracts
):
    task_id = alice_client.post(
        "/api/v1/data-processing/tasks/search/", {"filters": {}}, format="json"
    ).json()["task_id"]
    wait_for_state(task_id, JobState.SUCCESS)

    with open_socket(asgi_server, token=alice.auth_token.key) as ws:
        ws.send(json.dumps({"action": "subscribe", "task_id": task_id}))
        message = receive(ws)

    assert message["task_id"] == task_id
    assert message["state"] == "SUCCESS"
    assert message["progress"] == 100


def test_another_users_job_is_refused_and_their_updates_never_arrive(
    asgi_server, alice, bob, alice_client, sample_contracts
):
    with open_socket(asgi_server, token=bob.auth_token.key) as bobs_socket:
        task_id = alice_client.post(
            "/api/v1/data-processing/tasks/analytics/", {"filters": {}}, format="json"
        ).json()["task_id"]
        bobs_socket.send(json.dumps({"action": "subscribe", "task_id": task_id}))
        refusal = receive(bobs_socket)
        wait_for_state(task_id, JobState.SUCCESS)
        time.sleep(0.5)  # let any stray publish arrive before we look
        bobs_socket.send(json.dumps({"action": "ping"}))
        leftovers = [receive(bobs_socket)]

    assert refusal["type"] == "error"
    assert refusal["code"] == "job_not_found"
    assert leftovers == [{"type": "pong"}]


def test_a_browser_session_authenticates_and_a_foreign_origin_is_refused(asgi_server, alice, live_db):
    client = Client()
    client.force_login(alice)
    cookie = f"sessionid={client.cookies['sessionid'].value}"
    with open_socket(
        asgi_server, additional_headers={"Cookie": cookie}, origin=f"http://{asgi_server}"
    ) as ws:
        ws.send(json.dumps({"action": "ping"}))
        assert receive(ws) == {"type": "pong"}

    with pytest.raises(InvalidStatus):
        open_socket(asgi_server, additional_headers={"Cookie": cookie}, origin="http://evil.example")


def test_the_token_never_appears_in_the_server_log(asgi_server, alice, live_db):
    log = Path(__file__).resolve().parents[2] / "test-artifacts" / "asgi.log"
    with open_socket(asgi_server, token=alice.auth_token.key) as ws:
        ws.send(json.dumps({"action": "ping"}))
        receive(ws)
    time.sleep(0.2)

    text = log.read_text()
    assert "/ws/tasks/status/?token=[redacted]" in text  # the access line is there...
    assert alice.auth_token.key not in text  # ...without the secret
