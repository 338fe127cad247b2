"""Channel-layer publishing from sync code (data_processing/events.py), on the real Redis layer.

Job updates are published with the process's own Redis client, in the channel layer's wire
format, so what is checked here is that a subscriber of the layer itself receives them,
in the order they were published; that a job's update and its state mirror go together;
that a layer events.py cannot publish for directly still gets its messages; and that an
unreachable Redis neither raises nor holds the publisher.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.layers import channel_layers, get_channel_layer
from django.utils import timezone

from data_processing import events, job_state, result_cache
from data_processing.models import Job, JobState

USER_ID = 987_654  # no real user: the group is only this test's


@pytest.fixture
def fresh_layers():
    """Layers built from the current settings, so a test's override of them takes effect."""
    channel_layers.backends.pop("default", None)
    yield
    channel_layers.backends.pop("default", None)


def received_by_the_layer(publish) -> list[dict[str, Any]]:
    """Run ``publish()`` (sync code, which publishes some messages to USER_ID's group) and
    return what a subscriber of the channel layer received, until a closing marker."""
    layer = get_channel_layer()
    group = events.user_group(USER_ID)

    async def scenario() -> list[dict[str, Any]]:
        channel = await layer.new_channel()
        await layer.group_add(group, channel)
        try:
            # The subscription is live once a message sent after it arrives.
            await asyncio.to_thread(events.publish_event, USER_ID, {"type": "test.ready"})
            assert (await asyncio.wait_for(layer.receive(channel), 5))["type"] == "test.ready"
            await asyncio.to_thread(publish)
            await asyncio.to_thread(events.publish_event, USER_ID, {"type": "test.end"})
            received = []
            while (message := await asyncio.wait_for(layer.receive(channel), 5))["type"] != "test.end":
                received.append(message)
            return received
        finally:
            await layer.group_discard(group, channel)

    return async_to_sync(scenario)()


def a_job(state: str = JobState.STARTED) -> Job:
    now = timezone.now()
    return Job(
        id=uuid.uuid4(),
        owner_id=USER_ID,
        kind="search",
        state=state,
        message="Started.",
        progress=0,
        cache_key=f"search:{uuid.uuid4().hex}",
        created_at=now,
        updated_at=now,
    )


def test_messages_published_from_sync_code_arrive_in_the_order_published():
    def publish() -> None:
        for n in range(40):
            events.publish_event(USER_ID, {"type": "test.message", "n": n})

    assert [message["n"] for message in received_by_the_layer(publish)] == list(range(40))


def test_a_job_update_reaches_the_layer_as_the_socket_consumer_expects_it_and_is_mirrored():
    started, done = a_job(), a_job(JobState.SUCCESS)
    answer = json.dumps({"rows": ["ñ"], "total": 1})

    def publish() -> None:
        events.announce_job(started)
        events.announce_job(done, answer_json=answer)

    received = received_by_the_layer(publish)

    assert received == [events.job_update(started), events.job_update(done, answer_json=answer)]
    assert received[1][events.ANSWER_FIELD] == answer
    assert received[1]["type"] == events.EVENT_TYPE == "task.update"  # the consumer's handler
    mirror = result_cache.redis_client().hget(job_state.job_key(str(done.id)), "data")
    assert json.loads(mirror)["state"] == JobState.SUCCESS


def test_the_channel_is_the_one_the_pinned_channel_layer_names_for_the_group():
    layer = get_channel_layer()
    group = events.user_group(USER_ID)

    async def named_by_the_layer() -> str:
        return layer._get_group_channel_name(group)  # needs a running loop

    assert events._group_channel(layer, group) == async_to_sync(named_by_the_layer)()


def test_a_layer_on_another_redis_address_gets_its_messages_through_its_own_send(settings, fresh_layers):
    # The same server under another name: events.py cannot tell it is the cache's Redis.
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {
                "hosts": [settings.CACHES["default"]["LOCATION"].replace("127.0.0.1", "localhost")],
                "prefix": f"events-test-{uuid.uuid4().hex[:8]}",
            },
        }
    }
    layer = get_channel_layer()

    assert events._group_channel(layer, events.user_group(USER_ID)) is None
    received = received_by_the_layer(lambda: events.announce_job(a_job()))
    assert [message["state"] for message in received] == [JobState.STARTED]


def test_an_unreachable_redis_neither_raises_nor_holds_the_publisher(settings, fresh_layers, caplog):
    unreachable = "redis://127.0.0.1:1/0"
    settings.CACHES = {**settings.CACHES, "default": {**settings.CACHES["default"], "LOCATION": unreachable}}
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [unreachable], "prefix": "unreachable"},
        }
    }

    started = time.monotonic()
    events.publish_event(USER_ID, {"type": "test.message"}, label="the news")
    events.announce_job(a_job())
    elapsed = time.monotonic() - started

    assert elapsed < 5
    assert "Could not publish the news" in caplog.text
    assert "Could not mirror or push job" in caplog.text


def test_a_success_update_carries_an_answer_up_to_the_limit_and_none_past_it(settings):
    settings.JOB_UPDATE_RESULT_MAX_BYTES = 20
    done = a_job(JobState.SUCCESS)
    fits, too_large = '{"rows":[1,2,3,4,5]}', '{"rows":[1,2,3,4,5,6]}'

    assert (len(fits), len(too_large)) == (20, 22)
    assert events.job_update(done, answer_json=fits)[events.ANSWER_FIELD] == fits
    assert events.ANSWER_FIELD not in events.job_update(done, answer_json=too_large)
    assert events.ANSWER_FIELD not in events.job_update(done)
    settings.JOB_UPDATE_RESULT_MAX_BYTES = 0
    assert events.ANSWER_FIELD not in events.job_update(done, answer_json="{}")


@pytest.mark.parametrize("state", ["STARTED", "PROGRESS", "FAILURE"])
def test_only_a_success_update_carries_an_answer(state):
    assert events.ANSWER_FIELD not in events.job_update(a_job(state), answer_json='{"rows":[]}')
