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
"""

from __future__ import annotations

import contextlib
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import django
from asgiref.sync import ThreadSensitiveContext
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.handlers.asgi import ASGIHandler
from django.http import HttpRequest
from django.urls import URLResolver, get_resolver
from django.urls.resolvers import ResolverMatch

# Idle threads kept per process; a burst beyond it gets threads that end with their request.
MAX_IDLE_REQUEST_THREADS = 64
# Requests whose body no view reads: a poll pays nothing for the read-ahead.
BODILESS_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class ReusedThreadASGIHandler(ASGIHandler):
    """``ASGIHandler`` whose requests borrow a kept one-thread executor for their sync work."""

    def __init__(self) -> None:
        super().__init__()
        self.idle: deque[ThreadPoolExecutor] = deque()
        self.literal_routes: dict[tuple[URLResolver, str], ResolverMatch] = {}

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
                await self.handle(scope, receive_within_limit, send)
        except BaseException:
            executor.shutdown(wait=False)
            raise
        self._give_back(executor)
        if limit is not None and received > limit:
            from .errors import body_over_limit  # not at import: it needs Django set up

            await self.send_response(body_over_limit(scope["path"]), send)

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
