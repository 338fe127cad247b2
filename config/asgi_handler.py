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

A request's body is read into memory before its view runs, on the event loop. Django reads
the body into a file, and closes the file when it gives up on the request. It waits for a
synchronous view to return when the client hangs up, but not when the request is cancelled
once more meanwhile, as every task is when the server stops: a view on a shared thread
(config/shared_thread_views.py, a submit) then went on running, failed on its first read of
the body ("I/O operation on closed file") and logged a server error. Seen under load when
the server stopped right after its clients had gone. Read ahead, the view finishes as it
would have: the submit is queued, as one whose answer was lost on the way would be. A body
sent chunked, with no Content-Length, is given its length then: DRF reads a request without
one as a request without a body, so a chunked chip query was answered with no filters.

A body is read no further than ``API_MAX_BODY_BYTES`` (``DATA_UPLOAD_MAX_MEMORY_SIZE``).
Django reads the whole body into a temporary file before it builds the request, and checks
the limit only when a view reads the body: a client, signed in or not, could have a server
write a body of any size to its disk (3 GB took 5.8 s here, and a 401 at the end). Past the
limit the handler stops reading and answers 413 itself, in the API's error shape under
``/api/``, and the connection is closed.

It also remembers where a literal route resolves. Django resolves every request by walking
the URL patterns, through each ``include()`` level (a poll: ``api/v1/`` → ``data-processing/``
→ ``tasks/status/``). A path that is a route's literal text (no converter, no regular
expression) always resolves to the same view with no arguments, so its match is kept per
URLconf; the routes are finite, so the memo is too. Everything else resolves as Django does.
Remembering them took a finished job's status from 2.29 to 2.08 M instructions a request,
and a do-nothing view from 1.93 to 1.87 (test/bench_request_cost.py).

A request that never uses its thread is not sent there at all. Django sends
``request_started`` on the request's thread before the view, and ``request_finished`` there
through ``response.close()`` after it: two hops on every request, even one whose async view
never ran synchronous code (a poll, a submit on a shared thread), and they were 40 % of a
do-nothing view's instructions (1.89 → 1.11 M). Django's own receivers of those signals
work on the thread they run on (its database connections and their query logs) or in the
request's context (the URLconf, the caches). So here ``request_started`` is owed to the
request's thread and sent there just before the request's first synchronous work on it (a
request with none sends it nowhere), and ``request_finished`` goes there only if the request
used the thread; otherwise the response is closed, and the signal sent, on the event loop.
A thread the request never used holds nothing for them: connections do not outlive the
request that opened them (``CONN_MAX_AGE`` is 0, with or without the pool), so the last
request that used the thread closed its connections already.
Where that does not hold (any other receiver of either signal, or a connection kept between
requests), every request hops as Django's own handler does.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from typing import Any

import django
from asgiref.sync import ThreadSensitiveContext, sync_to_async
from django.conf import settings
from django.core import signals
from django.core.cache import close_caches
from django.core.exceptions import RequestAborted, RequestDataTooBig
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.core.handlers.base import reset_urlconf
from django.db import close_old_connections, reset_queries
from django.http import HttpRequest
from django.urls import URLResolver, get_resolver, set_script_prefix
from django.urls.resolvers import ResolverMatch

# Idle threads kept per process; a burst beyond it gets threads that end with their request.
MAX_IDLE_REQUEST_THREADS = 64
# Requests whose body no view reads: a poll pays nothing for the read-ahead.
BODILESS_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


# Django's own receivers of the request signals: each works on the thread it runs on, or in the
# request's context, and none blocks (see the module's docstring).
DJANGOS_REQUEST_SIGNAL_RECEIVERS = {
    signals.request_started: {reset_queries, close_old_connections},
    signals.request_finished: {close_old_connections, close_caches, reset_urlconf},
}


def request_signals_follow_the_thread(sender: type) -> bool:
    """Whether a request that never used its thread may skip it for the request signals sent
    by ``sender``: only Django's own receivers listen, and no database connection outlives
    its request."""
    for signal, known in DJANGOS_REQUEST_SIGNAL_RECEIVERS.items():
        sync_receivers, async_receivers = signal._live_receivers(sender)
        if async_receivers or not set(sync_receivers) <= known:
            return False
    return all(database.get("CONN_MAX_AGE", 0) == 0 for database in settings.DATABASES.values())


class RequestThread(ThreadPoolExecutor):
    """A kept one-thread executor that knows whether the request it is lent to has used it,
    and runs what the request owes the thread before the request's first work there."""

    def __init__(self) -> None:
        super().__init__(max_workers=1, thread_name_prefix="asgi-request")
        self.used = False
        self.owed: Callable[[], object] | None = None

    def lend(self, owed: Callable[[], object] | None) -> None:
        self.used, self.owed = False, owed

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        self.used = True
        owed, self.owed = self.owed, None
        if owed is None:
            return super().submit(fn, *args, **kwargs)
        return super().submit(_after, owed, fn, *args, **kwargs)


def _after(first: Callable[[], object], fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    first()
    return fn(*args, **kwargs)


class ReusedThreadASGIHandler(ASGIHandler):
    """``ASGIHandler`` whose requests borrow a kept one-thread executor for their sync work."""

    def __init__(self) -> None:
        super().__init__()
        self.idle: deque[RequestThread] = deque()
        self.literal_routes: dict[tuple[URLResolver, str], ResolverMatch] = {}
        # Decided once, with every app loaded and its receivers connected.
        self.signals_follow_the_thread = request_signals_follow_the_thread(self.__class__)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await super().__call__(scope, receive, send)  # Django's refusal
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        received = 0

        async def receive_within_limit() -> dict[str, Any]:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request" and limit is not None:
                received += len(message.get("body", b""))
                if received > limit:
                    return {"type": "http.disconnect"}  # Django stops reading, answers nothing
            return message

        executor = self._borrow()
        try:
            async with ThreadSensitiveContext(executor=executor):
                await self.handle(scope, receive_within_limit, send, thread=executor)
        except BaseException:
            executor.shutdown(wait=False)
            raise
        self._give_back(executor)
        if limit is not None and received > limit:
            from .errors import body_over_limit  # not at import: it needs Django set up

            await self.send_response(body_over_limit(scope["path"]), send)

    async def handle(
        self, scope: dict[str, Any], receive: Any, send: Any, thread: RequestThread | None = None
    ) -> None:
        """Django's ``ASGIHandler.handle`` (Django 5.2), but for where the request signals go
        (see the module's docstring); test/config/test_asgi_handler.py fails when Django's
        changes, so that this copy is brought up to date with it."""
        if thread is None or not self.signals_follow_the_thread:
            return await super().handle(scope, receive, send)
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        set_script_prefix(get_script_prefix(scope))
        thread.lend(partial(signals.request_started.send, sender=self.__class__, scope=scope))
        request, error_response = self.create_request(scope, body_file)
        if request is None:
            body_file.close()
            await self.send_response(error_response, send)
            await self._close(error_response, thread)
            return

        async def process_request(request: HttpRequest, send: Any) -> Any:
            response = await self.run_get_response(request)
            with contextlib.suppress(asyncio.CancelledError):  # the client left during the send
                await self.send_response(response, send)
            return response

        # Django's: a disconnect while the view runs cancels it, then each task is settled.
        tasks = [
            asyncio.create_task(self.listen_for_disconnect(receive)),
            asyncio.create_task(process_request(request, send)),
        ]
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in tasks:
            if task.done():
                try:
                    task.result()
                except RequestAborted:
                    pass
                except AssertionError:
                    body_file.close()
                    raise
            else:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        try:
            response = tasks[1].result()
        except asyncio.CancelledError:
            # A cancelled view may still run on its thread: the signal queues behind it there.
            await signals.request_finished.asend(sender=self.__class__)
        else:
            await self._close(response, thread)
        body_file.close()

    @staticmethod
    async def _close(response: Any, thread: RequestThread) -> None:
        """``response.close()``, which sends ``request_finished``: on the request's thread if
        the request used it, as Django does, otherwise here."""
        if thread.used:
            await sync_to_async(response.close)()
        else:
            response.close()

    def create_request(self, scope: dict[str, Any], body_file: Any) -> tuple[HttpRequest | None, Any]:
        """Django's, with the body read into memory and its length known (see the module's
        docstring)."""
        request, error_response = super().create_request(scope, body_file)
        if request is not None and scope["method"] not in BODILESS_METHODS:
            # Too large: left unread, for the view's own read to refuse in the API's error shape.
            with contextlib.suppress(RequestDataTooBig):
                body = request.body
                if not request.META.get("CONTENT_LENGTH"):
                    # Sent chunked, with no length (HTTP/2 clients and some proxies send so):
                    # DRF takes a request without a Content-Length for one without a body,
                    # and answered as if the filters it carried had not been sent.
                    request.META["CONTENT_LENGTH"] = str(len(body))
        return request, error_response

    def resolve_request(self, request: HttpRequest) -> ResolverMatch:
        """Django's, but a path that is a route's literal text is resolved once per URLconf.

        Keyed by the resolver: changing ``ROOT_URLCONF`` (as tests do) builds a new one. A
        request with its own ``urlconf`` resolves as Django does."""
        if hasattr(request, "urlconf"):
            return super().resolve_request(request)
        key = (get_resolver(), request.path_info)
        match = self.literal_routes.get(key)
        if match is None:
            match = key[0].resolve(request.path_info)
            if match.route == request.path_info[1:] and not (match.args or match.kwargs):
                self.literal_routes[key] = match
        request.resolver_match = match
        return match

    def _borrow(self) -> RequestThread:
        try:
            return self.idle.pop()
        except IndexError:
            return RequestThread()

    def _give_back(self, executor: RequestThread) -> None:
        executor.lend(None)  # an idle thread owes no request anything, nor holds its scope
        if len(self.idle) < MAX_IDLE_REQUEST_THREADS:
            self.idle.append(executor)
        else:
            executor.shutdown(wait=False)


def get_asgi_application() -> ASGIHandler:
    """``django.core.asgi.get_asgi_application``, with kept request threads unless
    ``ASGI_REUSE_REQUEST_THREADS`` is off (the benchmark's baseline of Django as shipped)."""
    django.setup(set_prefix=False)
    return ReusedThreadASGIHandler() if settings.ASGI_REUSE_REQUEST_THREADS else ASGIHandler()
