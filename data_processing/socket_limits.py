"""How many status websockets one user holds open, bounded by ``WEBSOCKET_MAX_PER_USER``.

Each open socket keeps a consumer, a channel-layer queue and a file descriptor in its web
process, so a user with a token could otherwise open them until the process runs out.

The count lives in the process, not in Redis. A shared count would outlive a web process
that dies without closing its sockets (killed, out of memory) and keep its users locked out
until the count was repaired; this one dies with its process and its sockets. The bound
over a deployment is the setting times the number of web processes. Every consumer of a
process runs on its one event loop, so the count needs no lock.
"""

from __future__ import annotations

import collections

from django.conf import settings

_open: collections.Counter[int] = collections.Counter()


def claim(user_id: int) -> bool:
    """Count one more open socket of the user's, unless they already hold the most allowed."""
    if _open[user_id] >= settings.WEBSOCKET_MAX_PER_USER:
        return False
    _open[user_id] += 1
    return True


def release(user_id: int) -> None:
    """The user's socket has ended: free its place."""
    _open[user_id] -= 1
    if _open[user_id] <= 0:
        del _open[user_id]


def open_sockets(user_id: int) -> int:
    return _open[user_id]
