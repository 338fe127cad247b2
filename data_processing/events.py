"""The one place that talks to the channel layer: job updates pushed to their owner's sockets.

Publishing happens from sync code (Celery workers, sync views). The layer is channels-redis's
pub/sub layer on the cache's Redis (``CHANNEL_LAYERS`` in the settings), where a group send is
one ``PUBLISH`` of the layer's own serialized message to the group's channel. This module
makes that ``PUBLISH`` itself, on the process's Redis client, rather than through the layer's
async ``group_send``:

- a job's update then goes in the same pipeline as its Redis state mirror: one round trip
  for both, 0.20 ms here where the mirror and then the layer's send took 0.54 ms;
- sync code needs no event loop to send: ``async_to_sync`` would start one per call, and
  channels-redis keeps a connection per loop;
- one process's updates reach Redis in the order it made them, so a socket sees a job's
  STARTED before its SUCCESS.

The message is the layer's own: serialized by the layer, on the channel name its subscribers
listen to (``test_events`` checks both against the pinned channels-redis). With any other
layer (the tests' in-memory one) the layer's ``group_send`` is used as its docs show.
"""

from __future__ import annotations

import logging
from typing import Any

import redis
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from channels_redis.pubsub import RedisPubSubChannelLayer
from django.conf import settings
from redis.client import Pipeline

from config.shared_redis import redis_client

from . import job_state
from .models import Job, JobState

logger = logging.getLogger(__name__)

EVENT_TYPE = "task.update"
# The channel-layer field of a SUCCESS update holding the job's answer as cached JSON; the
# socket consumer sends it as the frame's "data" without decoding it.
ANSWER_FIELD = "data_json"
# A saved search's run found contracts its previous run had not seen (saved_searches).
SAVED_SEARCH_NEWS_TYPE = "saved_search.news"


def user_group(user_id: int) -> str:
    return f"jobs.user.{user_id}"


def job_event(job: Job) -> dict[str, Any]:
    """The websocket message for a job; the same fields the status endpoint reports."""
    return {
        "type": EVENT_TYPE,
        "task_id": str(job.id),
        "kind": job.kind,
        "state": job.state,
        "progress": job.progress,
        "status": job.message,
        "cache_key": job.cache_key,
        "error": job.error or None,
    }


def job_update(job: Job, *, answer_json: str | None = None) -> dict[str, Any]:
    """The channel-layer message for a job's new state.

    A SUCCESS update carries the answer the job just cached, when it is at most
    ``JOB_UPDATE_RESULT_MAX_BYTES``: a client watching its socket then has the answer with
    the update, one request sooner. Only the owner's sockets receive it, and the owner may
    read that answer anyway."""
    message = job_event(job)
    if answer_json is not None and job.state == JobState.SUCCESS and fits_in_update(answer_json):
        message[ANSWER_FIELD] = answer_json
    return message


def fits_in_update(answer_json: str) -> bool:
    # The cached JSON is ASCII (json.dumps escapes the rest): a character is a byte.
    return len(answer_json) <= settings.JOB_UPDATE_RESULT_MAX_BYTES


def announce_job(job: Job, *, answer_json: str | None = None) -> None:
    """Tell pollers (the Redis mirror) and sockets (the channel layer) about a transition
    that just committed, in one round trip; ``job`` must hold the row's new state. Never
    fails the caller: pollers fall back to the row, and a missed push only delays a socket."""
    message = job_update(job, answer_json=answer_json)
    pushed = False
    try:
        with redis_client().pipeline(transaction=False) as pipe:
            job_state.mirror_into(pipe, job)
            pushed = _publish_into(pipe, job.owner_id, message)
            pipe.execute()
    except redis.RedisError as exc:
        logger.warning("Could not mirror or push job %s: %s", job.id, type(exc).__name__)
        return
    if not pushed:
        publish_event(job.owner_id, message, label=f"job {job.id}")


def publish_event(user_id: int, message: dict[str, Any], *, label: str = "an event") -> None:
    """Send one channel-layer message to a user's sockets from sync code; never raises."""
    layer = get_channel_layer()
    group = user_group(user_id)
    try:
        if (channel := _group_channel(layer, group)) is not None:
            redis_client().publish(channel, layer.serialize(message))
        elif layer is not None:
            async_to_sync(layer.group_send)(group, message)
    except Exception as exc:  # a push is a courtesy: pollers still read the state
        logger.warning("Could not publish %s: %s", label, type(exc).__name__)


def _publish_into(pipe: Pipeline, user_id: int, message: dict[str, Any]) -> bool:
    """Add the layer's send of ``message`` to ``pipe``, when the layer is the pub/sub layer
    on the pipeline's own Redis; False (nothing added) otherwise."""
    layer = get_channel_layer()
    channel = _group_channel(layer, user_group(user_id))
    if channel is None:
        return False
    pipe.publish(channel, layer.serialize(message))
    return True


def _group_channel(layer: Any, group: str) -> str | None:
    if not isinstance(layer, RedisPubSubChannelLayer):
        return None
    config = settings.CHANNEL_LAYERS["default"].get("CONFIG", {})
    if config.get("hosts") != [settings.CACHES["default"]["LOCATION"]]:
        return None
    # channels-redis's RedisPubSubLoopLayer._get_group_channel_name, which needs a running loop.
    return f"{config.get('prefix', 'asgi')}__group__{group}"
