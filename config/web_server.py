"""What the web server is told beyond its defaults, however it runs: uvicorn under `make run`
(bin/run-stack), or gunicorn's uvicorn workers in the image and compose (their --worker-class).
"""

from __future__ import annotations

from uvicorn_worker import UvicornWorker as StockUvicornWorker

# The largest websocket message the server takes, in bytes; a larger one closes the socket
# (1009). A client's messages are a few dozen bytes, and the consumer answers any over 4,096
# characters with an error, but uvicorn's default (16 MiB) had the server read and hold that
# much of each frame before the consumer saw it.
WEBSOCKET_MAX_MESSAGE_BYTES = 64 * 1024


class UvicornWorker(StockUvicornWorker):
    """gunicorn's uvicorn worker, with the limit above (its documented way: CONFIG_KWARGS)."""

    CONFIG_KWARGS = {**StockUvicornWorker.CONFIG_KWARGS, "ws_max_size": WEBSOCKET_MAX_MESSAGE_BYTES}
