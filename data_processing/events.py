"""The one place that talks to the channel layer: job updates pushed to their owner's sockets.

Publishing happens from sync code (Celery workers, sync views). ``async_to_sync`` would
spin a fresh event loop per call, and channels-redis keeps its connections per loop, so
every update would open (and leak) a Redis connection. Instead each process runs one
private event loop in a daemon thread and hands it the sends: one loop, one connection.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from typing import Any

from channels.layers import get_channel_layer

from .models import Job

logger = logging.getLogger(__name__)

EVENT_TYPE = "task.update"
# A saved search's run found contracts its previous run had not seen (saved_searches).
SAVED_SEARCH_NEWS_TYPE = "saved_search.news"
PUBLISH_TIMEOUT_SECONDS = 2.0


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


class _LoopThread:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pid: int | None = None

    def loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            # A forked child (Celery's prefork pool) inherits the object but not the thread.
            if self._loop is None or self._pid != os.getpid():
                self._loop = asyncio.new_event_loop()
                self._pid = os.getpid()
                threading.Thread(target=self._loop.run_forever, name="channel-layer", daemon=True).start()
            return self._loop


_loop_thread = _LoopThread()


def publish_job_update(job: Job) -> None:
    """Push the job's state to its owner's sockets; never fails the caller."""
    publish_event(job.owner_id, job_event(job), label=f"job {job.id}")


def publish_event(user_id: int, message: dict[str, Any], *, label: str = "an event") -> None:
    """Send one channel-layer message to a user's sockets from sync code; never raises."""
    layer = get_channel_layer()
    if layer is None:
        return
    future = asyncio.run_coroutine_threadsafe(
        layer.group_send(user_group(user_id), message), _loop_thread.loop()
    )
    try:
        future.result(timeout=PUBLISH_TIMEOUT_SECONDS)
    except Exception as exc:
        # Pollers still see the state in the database; a missed push only delays a socket.
        future.cancel()
        logger.warning("Could not publish %s: %s", label, type(exc).__name__)
