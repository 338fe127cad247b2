"""The worker's consumer: Celery's own, but for what it does to a lost broker connection.

When the consumer loses its Redis broker connection, Celery 5.7 collects the connection,
which drops the transport's client, and then closes it. A channel that collect left open
(its close failed on the BRPOP it was waiting on, and the transport's close of its channels
stopped at the remote-control channel's failure) then hands back the messages it still
holds, and later acknowledges the jobs that finish, through a new connection pool that
kombu's Redis transport builds from that client: ``AttributeError: 'NoneType' object has no
attribute 'hostname'``, which Celery takes for an unrecoverable error. The worker's main
process exits, and with it every process of ``make run``: seen at one Redis restart in
several under load. Keeping the client through collect, the old channel's close and late
acknowledgements fail as a lost connection does (or reach the restarted Redis), which
Celery handles; the rest of its handling runs as it is.

The jobs running at that moment run on to their end
(``CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS``). Celery 5.7 still warns on a
lost connection, whatever that setting says, that Celery 6 will cancel them by default: a
paragraph in the worker's log that asks nothing of the operator, so it is filtered here.
"""

from __future__ import annotations

import warnings
from typing import Any

from celery.exceptions import CPendingDeprecationWarning
from celery.worker.consumer import Consumer as CeleryConsumer
from kombu import Connection

warnings.filterwarnings(
    "ignore", message=r"\s*In Celery 5\.1 we introduced", category=CPendingDeprecationWarning
)


def keep_client_through_collect(connection: Connection) -> None:
    """Make collect leave the transport's client in place for the channels still open."""
    collect = connection.collect
    transport = connection.transport

    def collect_keeping_client(*args: Any, **kwargs: Any) -> None:
        try:
            collect(*args, **kwargs)
        finally:
            transport.client = connection

    connection.collect = collect_keeping_client


class Consumer(CeleryConsumer):
    def on_connection_error_after_connected(self, exc: Exception) -> None:
        if self.connection is not None:
            keep_client_through_collect(self.connection)
        super().on_connection_error_after_connected(exc)
