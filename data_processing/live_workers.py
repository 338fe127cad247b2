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
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from celery import current_app
from kombu import Connection

logger = logging.getLogger(__name__)

# An inspect is a broadcast that waits its whole timeout for replies. Two seconds leaves a
# busy worker's main process (which answers while its pool runs jobs) time to reply: one
# that does not is taken for gone, and its jobs would run twice.
INSPECT_TIMEOUT_SECONDS = 2.0


@dataclass(frozen=True)
class BrokerView:
    held: frozenset[str]  # of the ids asked about, those a live worker runs, or took to run next
    waiting: dict[str, int]  # messages waiting in each queue asked about


def look(job_ids: Collection[str], queues: Iterable[str]) -> BrokerView | None:
    """Which of ``job_ids`` (a job's task id is its job id) the workers answering now hold,
    and how many messages wait in each of ``queues``; None when the broker cannot be asked,
    so that nothing is taken for lost."""
    app = current_app
    try:
        # A connection of its own: a pooled one that a broker restart left stale fails its
        # first use, and this runs at most once a sweep.
        with app.connection_for_write(connect_timeout=INSPECT_TIMEOUT_SECONDS) as connection:
            inspect = app.control.inspect(timeout=INSPECT_TIMEOUT_SECONDS, connection=connection)
            replies = inspect.query_task(*job_ids) if job_ids else {}
            waiting = {queue: _waiting_in(connection, queue) for queue in queues}
    except Exception as exc:
        logger.warning("Could not ask the workers and the broker what they hold (%s)", type(exc).__name__)
        return None
    held = frozenset(str(task_id) for answer in (replies or {}).values() for task_id in answer or {})
    return BrokerView(held=held, waiting=waiting)


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
