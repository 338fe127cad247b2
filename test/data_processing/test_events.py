"""Channel-layer publishing from sync code (data_processing/events.py), on the real Redis layer.

A running job's updates are handed over without waiting, so what is checked here is that
they still reach a socket in the order they were published, and that a publisher whose
channel layer is unreachable neither raises nor waits longer than the publish timeout.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import socket
import time

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from data_processing import events

USER_ID = 987_654  # no real user: the group is only this test's


def publish_and_receive(publish: list[tuple[int, bool]]) -> list[int]:
    """Publish ``(n, wait)`` messages from a sync thread; return the ``n`` a subscriber got."""
    layer = get_channel_layer()
    group = events.user_group(USER_ID)

    def from_sync_code() -> None:
        for n, wait in publish:
            events.publish_event(USER_ID, {"type": "test.message", "n": n}, wait=wait)

    async def scenario() -> list[int]:
        channel = await layer.new_channel()
        await layer.group_add(group, channel)
        try:
            # The subscription is live once a message sent after it arrives.
            await asyncio.to_thread(events.publish_event, USER_ID, {"type": "test.message", "n": -1})
            assert (await asyncio.wait_for(layer.receive(channel), 5))["n"] == -1
            await asyncio.to_thread(from_sync_code)
            return [(await asyncio.wait_for(layer.receive(channel), 5))["n"] for _ in publish]
        finally:
            await layer.group_discard(group, channel)

    return async_to_sync(scenario)()


def test_updates_arrive_in_the_order_published_whether_or_not_the_publisher_waited():
    published = [(n, n % 7 == 6) for n in range(40)]  # mostly not waiting, a wait now and then

    assert publish_and_receive(published) == list(range(40))


def test_an_unreachable_channel_layer_neither_raises_nor_holds_the_publisher(settings, caplog):
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": ["redis://127.0.0.1:1/0"], "prefix": "unreachable"},
        }
    }
    from channels.layers import channel_layers

    channel_layers.backends.pop("default", None)
    try:
        started = time.monotonic()
        events.publish_event(USER_ID, {"type": "test.message"}, wait=False)
        events.publish_event(USER_ID, {"type": "test.message"}, label="the waited one")
        elapsed = time.monotonic() - started
    finally:
        channel_layers.backends.pop("default", None)

    assert elapsed < events.PUBLISH_TIMEOUT_SECONDS + 1
    assert "Could not publish the waited one" in caplog.text


def test_sends_stuck_behind_a_silent_channel_layer_fail_at_their_deadline_not_later(settings):
    silent = socket.socket()  # accepts connections (the kernel's backlog) and never answers
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [f"redis://127.0.0.1:{silent.getsockname()[1]}/0"], "prefix": "silent"},
        }
    }
    from channels.layers import channel_layers

    channel_layers.backends.pop("default", None)
    try:
        started = time.monotonic()
        futures = [events._publisher.submit("silent-group", {"type": "test.message"}) for _ in range(3)]
        done, pending = concurrent.futures.wait(futures, timeout=events.PUBLISH_TIMEOUT_SECONDS * 2)
        elapsed = time.monotonic() - started
    finally:
        channel_layers.backends.pop("default", None)
        silent.close()

    # Each send may take the timeout from its hand-over, not the timeout after the one before.
    assert not pending
    assert all(isinstance(future.exception(), TimeoutError) for future in done)
    assert elapsed < events.PUBLISH_TIMEOUT_SECONDS * 1.5


@pytest.mark.parametrize("state, waits", [("STARTED", False), ("PROGRESS", False), ("SUCCESS", True)])
def test_only_a_running_jobs_update_is_sent_without_waiting(monkeypatch, state, waits):
    from data_processing.models import Job

    calls = []
    monkeypatch.setattr(events, "publish_event", lambda *args, **kwargs: calls.append(kwargs["wait"]))
    events.publish_job_update(Job(owner_id=USER_ID, kind="search", state=state))

    assert calls == [waits]


def published_fields(monkeypatch, job, answer_json) -> dict:
    """The channel-layer message ``publish_job_update`` hands over for ``job``."""
    sent = []
    monkeypatch.setattr(events, "publish_event", lambda user_id, message, **kwargs: sent.append(message))
    events.publish_job_update(job, answer_json=answer_json)
    return sent[0]


def test_a_success_update_carries_an_answer_up_to_the_limit_and_none_past_it(monkeypatch, settings):
    from data_processing.models import Job

    settings.JOB_UPDATE_RESULT_MAX_BYTES = 20
    done = Job(owner_id=USER_ID, kind="search", state="SUCCESS")
    fits, too_large = '{"rows":[1,2,3,4,5]}', '{"rows":[1,2,3,4,5,6]}'

    assert (len(fits), len(too_large)) == (20, 22)
    assert published_fields(monkeypatch, done, fits)[events.ANSWER_FIELD] == fits
    assert events.ANSWER_FIELD not in published_fields(monkeypatch, done, too_large)
    assert events.ANSWER_FIELD not in published_fields(monkeypatch, done, None)
    settings.JOB_UPDATE_RESULT_MAX_BYTES = 0
    assert events.ANSWER_FIELD not in published_fields(monkeypatch, done, "{}")


@pytest.mark.parametrize("state", ["STARTED", "PROGRESS", "FAILURE"])
def test_only_a_success_update_carries_an_answer(monkeypatch, state):
    from data_processing.models import Job

    job = Job(owner_id=USER_ID, kind="search", state=state)

    assert events.ANSWER_FIELD not in published_fields(monkeypatch, job, '{"rows":[]}')
