"""Concurrent awaits of the same look-up share one call.

The polls keep what they look up in per-process caches that expire: a token's user, a job
kind's typical run time, and a job's mirror, which is checked against its row once a period.
Every request in flight when such an entry lapses misses it at the same moment. Under 50
polling clients, up to 25 requests per web process each hopped to a thread and read the same
job row, up to 120 ms each, every 30 s, and as many looked up the same token every minute
(docs/performance.md, "Joined look-ups"). Joined, the first caller's look-up answers all of
them, as Go's ``singleflight`` does.

asyncio has no such primitive. async-lru's ``alru_cache`` joins concurrent calls, but only
for the cache it keeps itself; these look-ups fill caches the synchronous paths share, so
only the wait is joined here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")


class _LeaderCancelled(Exception):
    """The caller making the call was cancelled (its client went away) before it finished."""


class SingleFlight:
    """One call per key at a time, its outcome shared with whoever asked meanwhile."""

    def __init__(self) -> None:
        self._calls: dict[tuple[asyncio.AbstractEventLoop, Hashable], asyncio.Future[Any]] = {}

    async def run(self, key: Hashable, call: Callable[[], Awaitable[T]]) -> T:
        """``call()``'s result, or that of the call for ``key`` already running.

        The call runs in the first caller's own task, so it keeps that request's context (its
        thread and database connection). A caller who goes away leaves the others waiting on
        nothing: if it was the one calling, the next caller calls again. An exception is
        shared like a result."""
        slot = (asyncio.get_running_loop(), key)
        while (running := self._calls.get(slot)) is not None:
            try:
                return await asyncio.shield(running)
            except _LeaderCancelled:
                continue
        outcome: asyncio.Future[Any] = slot[0].create_future()
        self._calls[slot] = outcome
        try:
            result = await call()
        except BaseException as exc:
            outcome.set_exception(_LeaderCancelled() if isinstance(exc, asyncio.CancelledError) else exc)
            outcome.exception()  # read: asyncio logs an unread one, and nobody may be waiting
            raise
        else:
            outcome.set_result(result)
            return result
        finally:
            del self._calls[slot]
