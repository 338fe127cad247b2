"""The one place that talks to the channel layer: job updates pushed to their owner's sockets.

Publishing happens from sync code (Celery workers, sync views). ``async_to_sync`` would
spin a fresh event loop per call, and channels-redis keeps its connections per loop, so
every update would open (and leak) a Redis connection. Instead each process runs one
private event loop in a daemon thread and hands it the sends: one loop, one connection.

That loop sends one message at a time, in the order they were handed over, so a socket sees
a job's STARTED before its SUCCESS even when the worker does not wait for the first: a
running job's updates are sent while it goes on working (``wait=False``), and its final
update, which waits, also waits for everything handed over before it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import os
import threading
from typing import Any

from channels.layers import get_channel_layer
from django.conf import settings

from .models import RUNNING_STATES, Job, JobState

logger = logging.getLogger(__name__)

EVENT_TYPE = "task.update"
# The channel-layer field of a SUCCESS update holding the job's answer as cached JSON; the
# socket consumer sends it as the frame's "data" without decoding it.
ANSWER_FIELD = "data_json"
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


# Sends handed over and not yet made, per process: past this many (the channel layer is
# down and each send waits out its timeout), new ones are dropped with a warning.
MAX_PENDING_SENDS = 1000

# (group, message, future, deadline on the publishing loop's clock)
_Send = tuple[str, dict[str, Any], concurrent.futures.Future, float]


class _Publisher:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: asyncio.Queue[_Send] | None = None
        self._pid: int | None = None

    def submit(self, group: str, message: dict[str, Any]) -> concurrent.futures.Future:
        """Queue one group send behind the earlier ones; the future settles once it is made,
        or fails once ``PUBLISH_TIMEOUT_SECONDS`` have passed since this call."""
        loop, queue = self._started()
        future: concurrent.futures.Future = concurrent.futures.Future()

        def enqueue() -> None:
            try:
                queue.put_nowait((group, message, future, loop.time() + PUBLISH_TIMEOUT_SECONDS))
            except asyncio.QueueFull:
                future.set_exception(RuntimeError("too many channel-layer sends pending"))

        loop.call_soon_threadsafe(enqueue)
        return future

    def _started(self) -> tuple[asyncio.AbstractEventLoop, asyncio.Queue[_Send]]:
        with self._lock:
            # A forked child (Celery's prefork pool) inherits the object but not the thread.
            if self._loop is None or self._queue is None or self._pid != os.getpid():
                loop = asyncio.new_event_loop()
                queue: asyncio.Queue[_Send] = asyncio.Queue(maxsize=MAX_PENDING_SENDS)
                threading.Thread(target=loop.run_forever, name="channel-layer", daemon=True).start()
                asyncio.run_coroutine_threadsafe(self._send_in_order(queue), loop)
                self._loop, self._queue, self._pid = loop, queue, os.getpid()
            return self._loop, self._queue

    @staticmethod
    async def _send_in_order(queue: asyncio.Queue[_Send]) -> None:
        # A send that waited past its deadline behind slower ones (the layer unreachable) is
        # dropped, not made late: a socket must not get a stale STARTED after a job ended.
        loop = asyncio.get_running_loop()
        while True:
            group, message, future, deadline = await queue.get()
            if not future.set_running_or_notify_cancel():
                continue
            try:
                left = deadline - loop.time()
                if left <= 0:
                    raise TimeoutError("waited out its time behind other sends")
                await asyncio.wait_for(get_channel_layer().group_send(group, message), left)
            except Exception as exc:
                future.set_exception(exc)
            else:
                future.set_result(None)


_publisher = _Publisher()


def publish_job_update(job: Job, *, answer_json: str | None = None) -> None:
    """Push the job's state to its owner's sockets; never fails the caller. A running job's
    update is handed over without waiting; any other waits for it and all before it.

    A SUCCESS update carries the answer the job just cached, when it is at most
    ``JOB_UPDATE_RESULT_MAX_BYTES``: a client watching its socket then has the answer with
    the update, one request sooner. Only the owner's sockets receive it, and the owner may
    read that answer anyway."""
    message = job_event(job)
    if answer_json is not None and job.state == JobState.SUCCESS and fits_in_update(answer_json):
        message[ANSWER_FIELD] = answer_json
    publish_event(job.owner_id, message, label=f"job {job.id}", wait=job.state not in RUNNING_STATES)


def fits_in_update(answer_json: str) -> bool:
    # The cached JSON is ASCII (json.dumps escapes the rest): a character is a byte.
    return len(answer_json) <= settings.JOB_UPDATE_RESULT_MAX_BYTES


def publish_event(
    user_id: int, message: dict[str, Any], *, label: str = "an event", wait: bool = True
) -> None:
    """Send one channel-layer message to a user's sockets from sync code; never raises.

    ``wait`` returns once it was sent (or failed, or ``PUBLISH_TIMEOUT_SECONDS`` passed);
    otherwise a failure is only logged, by the publishing thread."""
    if get_channel_layer() is None:
        return
    future = _publisher.submit(user_group(user_id), message)
    if not wait:
        future.add_done_callback(lambda done: _log_failure(done, label))
        return
    try:
        future.result(timeout=PUBLISH_TIMEOUT_SECONDS)
    except concurrent.futures.TimeoutError:
        future.cancel()  # still queued behind slower sends: drop it; if being sent, let it be
        logger.warning("Could not publish %s: TimeoutError", label)
    except Exception:
        _log_failure(future, label)


def _log_failure(future: concurrent.futures.Future, label: str) -> None:
    # Pollers still see the state in the database; a missed push only delays a socket.
    if not future.cancelled() and future.exception() is not None:
        logger.warning("Could not publish %s: %s", label, type(future.exception()).__name__)
