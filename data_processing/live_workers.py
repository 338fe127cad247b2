"""What the live workers hold now, asked of the workers themselves, and what waits in the broker.

The sweeper needs this to tell a job whose whole worker was killed (SIGKILL, the OOM killer,
a lost machine or container) from one still running or about to: the job row says STARTED,
or PENDING for a message the worker had taken but not started, either way. Late
acknowledgement does not cover that case on a Redis broker, which hands a dead worker's
unacknowledged messages to another only after its visibility timeout (the hard time limit
+ 5 minutes): by then the sweeper would have failed a running job, and a waiting one would
have waited minutes for nothing.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Collection, Mapping

from celery import current_app
from kombu import Connection

logger = logging.getLogger(__name__)

# An inspect is a broadcast that waits its whole timeout for replies. Two seconds leaves a
# busy worker's main process (which answers while its pool runs jobs) time to reply: one
# that does not is taken for gone, and its jobs would run twice.
ASK_TIMEOUT_SECONDS = 2.0


def held_by_none(running: Collection[str], waiting: Mapping[str, Collection[str]]) -> set[str] | None:
    """The jobs no live worker holds (runs, or took to run next): of ``running``, any; of
    ``waiting`` (job ids by the queue their message went to), only those whose queue is
    empty, since a message still in the queue is no worker's yet. A job's task id is its job
    id. None when the broker cannot be asked, so that nothing is taken for lost.

    Only those jobs are asked about, so the question stays small behind a long queue."""
    app = current_app
    try:
        # A connection of its own: a pooled one that a broker restart left stale fails its
        # first use, and this runs at most once a sweep.
        with app.connection_for_write(connect_timeout=ASK_TIMEOUT_SECONDS) as connection:
            ids = {*running}
            for queue, job_ids in waiting.items():
                if job_ids and not _waiting_in(connection, queue):
                    ids.update(job_ids)
            if not ids:
                return set()
            inspect = app.control.inspect(timeout=ASK_TIMEOUT_SECONDS, connection=connection)
            replies = inspect.query_task(*sorted(ids)) or {}
    except Exception as exc:
        logger.warning("Could not ask the workers and the broker what they hold (%s)", type(exc).__name__)
        return None
    held = {str(task_id) for answer in replies.values() for task_id in answer or {}}
    return ids - held


def _waiting_in(connection: Connection, queue: str) -> int:
    # A channel each: RabbitMQ closes one whose passive declare finds no queue.
    channel = connection.channel()
    try:
        return channel.queue_declare(queue=queue, passive=True).message_count
    except connection.channel_errors:
        return 0  # no such queue (a Redis broker's is gone when empty): nothing waits
    finally:
        with contextlib.suppress(*connection.channel_errors, *connection.connection_errors):
            channel.close()
