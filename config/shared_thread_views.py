"""Serve a synchronous DRF view from a pool of long-lived threads instead of a new one per request.

Under ASGI, Django runs a synchronous view with ``thread_sensitive=True`` inside the
request's own ``ThreadSensitiveContext``: the first hop of every request starts a new thread
(and a one-thread executor), and a DRF ``Response`` is rendered in a second hop after the view
returns. A view that keeps nothing per thread between requests can run on the event loop's
shared executor instead, rendered there in the same hop. Django keeps database connections
per thread, so the hop hands this thread's connections back (to the psycopg pool) before it
returns, as the end of a request would.

asgiref's own ``sync_to_async(thread_sensitive=False)`` is the documented way to do this; the
wrapper only adds the rendering and the connection hand-back around it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIRequest
from django.db import close_old_connections
from django.http import HttpRequest, HttpResponse, HttpResponseBase


def on_shared_threads(view: Callable[..., HttpResponseBase]) -> Callable[..., Any]:
    """``view`` (an ``APIView.as_view()`` result) as an ``async def`` view run on shared threads."""

    def run(request: HttpRequest, *args: Any, shared: bool, **kwargs: Any) -> HttpResponseBase:
        try:
            response = view(request, *args, **kwargs)
            if shared and callable(getattr(response, "render", None)):
                response.render()
                # A plain response: Django would otherwise hop to a thread again to render it.
                plain = HttpResponse(response.content, status=response.status_code)
                for name, value in response.items():
                    plain[name] = value
                plain.cookies = response.cookies
                return plain
            return response
        finally:
            if shared:
                close_old_connections()

    async def shared_thread_view(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        # Only a request an ASGI server brought moves threads. Under WSGI, and Django's test
        # client, the caller's thread is already a worker thread, and may hold a transaction
        # (a test's) that the view must see: the view runs there, as Django would run it.
        shared = isinstance(request, ASGIRequest)
        return await sync_to_async(run, thread_sensitive=not shared)(request, *args, shared=shared, **kwargs)

    # What drf-spectacular and Django's URL resolver read from a DRF view function.
    for attribute in ("cls", "initkwargs", "csrf_exempt", "__name__", "__doc__"):
        if hasattr(view, attribute):
            setattr(shared_thread_view, attribute, getattr(view, attribute))
    return shared_thread_view
