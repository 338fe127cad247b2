"""Which jobs the live workers are running now, asked of the workers themselves.

The sweeper needs this to tell a job whose whole worker was killed (SIGKILL, the OOM killer,
a lost machine or container) from one still running: the job row says STARTED either way.
Late acknowledgement does not cover that case on a Redis broker, which hands a dead
worker's unacknowledged message to another only after its visibility timeout (the hard time
limit + 5 minutes), and by then the sweeper would have failed the job.
"""

from __future__ import annotations

import logging

from celery import current_app

logger = logging.getLogger(__name__)

# An inspect is a broadcast that waits its whole timeout for replies. Two seconds leaves a
# busy worker's main process (which answers while its pool runs jobs) time to reply: one
# that does not is taken for gone, and its jobs would run twice.
INSPECT_TIMEOUT_SECONDS = 2.0


def running_task_ids() -> set[str] | None:
    """The task ids (a job's task id is its job id) that the workers answering now are
    running; None when the broker cannot be asked, so that nothing is taken for lost."""
    app = current_app
    try:
        # A connection of its own: a pooled one that a broker restart left stale fails its
        # first use, and this runs at most once a sweep.
        with app.connection_for_write(connect_timeout=INSPECT_TIMEOUT_SECONDS) as connection:
            replies = app.control.inspect(timeout=INSPECT_TIMEOUT_SECONDS, connection=connection).active()
    except Exception as exc:
        logger.warning("Could not ask the workers what they are running (%s)", type(exc).__name__)
        return None
    return {str(task["id"]) for tasks in (replies or {}).values() for task in tasks or ()}
