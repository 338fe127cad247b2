"""Django's ASGI handler, with each request's synchronous work on a kept thread, not a new one.

Django serves every HTTP request inside an asgiref ``ThreadSensitiveContext`` of its own: the
synchronous parts of the request (the ``request_started`` receivers, a synchronous view, and
``response.close()``, which sends ``request_finished``) all run on one thread that belongs to
that request, so thread-bound state such as its database connection stays with it. Given no
executor, asgiref starts that thread for the request and joins it at the end. On a do-nothing
async view that thread was about a third of the CPU the whole request cost (1.3 → 0.9 ms,
in-process), and every request pays it, polls included.

asgiref lets a context be given an executor that the caller owns and may reuse
(``ThreadSensitiveContext(executor=...)``). This handler keeps idle one-thread executors and
lends one to each request. The guarantee is Django's: one thread per request, and nothing
else runs on it while the request does. The thread outlives the request, as a WSGI server's
worker threads do, and the request's database connections are still handed back at its end,
by Django's own ``request_finished`` receivers on that thread. A request that ends by an
exception or a cancellation may leave work running on its thread (a synchronous view cannot
be stopped), so its executor is shut down rather than lent again.
"""

from __future__ import annotations

from collections import deque
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import django
from asgiref.sync import ThreadSensitiveContext
from django.conf import settings
from django.core.handlers.asgi import ASGIHandler

# Idle threads kept per process; a burst beyond it gets threads that end with their request.
MAX_IDLE_REQUEST_THREADS = 64


class ReusedThreadASGIHandler(ASGIHandler):
    """``ASGIHandler`` whose requests borrow a kept one-thread executor for their sync work."""

    def __init__(self) -> None:
        super().__init__()
        self.idle: deque[ThreadPoolExecutor] = deque()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await super().__call__(scope, receive, send)  # Django's refusal
        executor = self._borrow()
        try:
            async with ThreadSensitiveContext(executor=executor):
                await self.handle(scope, receive, send)
        except BaseException:
            executor.shutdown(wait=False)
            raise
        self._give_back(executor)

    def _borrow(self) -> ThreadPoolExecutor:
        try:
            return self.idle.pop()
        except IndexError:
            return ThreadPoolExecutor(max_workers=1, thread_name_prefix="asgi-request")

    def _give_back(self, executor: ThreadPoolExecutor) -> None:
        if len(self.idle) < MAX_IDLE_REQUEST_THREADS:
            self.idle.append(executor)
        else:
            executor.shutdown(wait=False)


def get_asgi_application() -> ASGIHandler:
    """``django.core.asgi.get_asgi_application``, with kept request threads unless
    ``ASGI_REUSE_REQUEST_THREADS`` is off (the benchmark's baseline of Django as shipped)."""
    django.setup(set_prefix=False)
    return ReusedThreadASGIHandler() if settings.ASGI_REUSE_REQUEST_THREADS else ASGIHandler()
