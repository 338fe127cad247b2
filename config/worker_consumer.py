"""The worker's consumer: Celery's own, with the close of a lost broker connection guarded.

When the consumer loses its Redis broker connection, Celery 5.7 first collects the
connection, which drops the transport's client, and then closes it. The close hands back
the messages of any channel that collect left open, and kombu's Redis transport builds a
new connection pool for that from the client it no longer has: ``AttributeError: 'NoneType'
object has no attribute 'hostname'``, which Celery takes for an unrecoverable error. The
worker's main process exits, and with it every process of ``make run``. It takes a channel
waiting on a BRPOP and holding a job's unacknowledged message while another channel's close
fails first, so it comes at one Redis restart in many under load. Nothing is lost by not
handing those messages back: the broker is unreachable then anyway, and the recovery sweep
queues their jobs again. Celery's handling otherwise runs as it is.
"""

from __future__ import annotations

import logging

from celery.worker.consumer import Consumer as CeleryConsumer
from kombu import Connection

logger = logging.getLogger(__name__)


def guard_close_after_collect(connection: Connection) -> None:
    """Make this connection's close survive the transport client that collect dropped."""
    close = connection.close

    def close_after_collect() -> None:
        try:
            close()
        except AttributeError as error:
            logger.warning("The lost broker connection did not close cleanly (%s); reconnecting", error)

    connection.close = connection.release = close_after_collect


class Consumer(CeleryConsumer):
    def on_connection_error_after_connected(self, exc: Exception) -> None:
        if self.connection is not None:
            guard_close_after_collect(self.connection)
        super().on_connection_error_after_connected(exc)
