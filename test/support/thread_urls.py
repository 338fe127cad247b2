"""Views that report the thread serving them, for the ASGI handler's tests."""

from __future__ import annotations

import threading

from asgiref.sync import sync_to_async
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt

from config.shared_thread_views import on_shared_threads

# Set by a test: every request to barrier/ waits here until all its parties arrived.
barrier: threading.Barrier | None = None
# Set by a test: hold/ waits on it, so the test can cancel a request mid-view.
release = threading.Event()
# What hold-then-read/ got when it read its body once released: the body, or the error.
bodies_read: list[bytes | Exception] = []


def thread(request: HttpRequest) -> JsonResponse:
    """This thread, and whether it still held a database connection when the view began."""
    had_connection = connection.connection is not None
    connection.ensure_connection()
    return JsonResponse({"thread": threading.get_ident(), "had_connection": had_connection})


async def on_the_loop(request: HttpRequest) -> JsonResponse:
    """An async view that never runs synchronous code, as a poll answered from memory."""
    return JsonResponse({"thread": threading.get_ident()})


async def through_the_thread(request: HttpRequest) -> JsonResponse:
    """An async view that reads in a thread, as a poll reading a job's row."""
    return await sync_to_async(thread)(request)


def wait_for_all(request: HttpRequest) -> JsonResponse:
    assert barrier is not None
    barrier.wait()
    return JsonResponse({"thread": threading.get_ident()})


def hold(request: HttpRequest) -> JsonResponse:
    release.wait(timeout=10)
    return JsonResponse({"thread": threading.get_ident()})


@csrf_exempt
def hold_then_read(request: HttpRequest) -> JsonResponse:
    """Waits on ``release``, then reads its body: a submit whose request ends meanwhile."""
    release.wait(timeout=10)
    try:
        bodies_read.append(request.body)
    except Exception as error:  # recorded for the test to see
        bodies_read.append(error)
    return JsonResponse({})


@csrf_exempt
def body_size(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"size": len(request.body)})


def fail(request: HttpRequest) -> JsonResponse:
    raise RuntimeError("a view that fails")


def item(request: HttpRequest, number: int) -> JsonResponse:
    """Which route answered, and with what: for the resolver-memo tests."""
    return JsonResponse({"view": "item", "number": number, "route": request.resolver_match.route})


def nested(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"view": "nested", "route": request.resolver_match.route})


nested_patterns = [path("deeper/", nested, name="nested")]


urlpatterns = [
    path("thread/", thread),
    path("on-the-loop/", on_the_loop),
    path("through-the-thread/", through_the_thread),
    path("barrier/", wait_for_all),
    path("hold/", hold),
    path("hold-then-read/", on_shared_threads(hold_then_read)),  # as a submit is served
    path("fail/", fail),
    path("body-size/", body_size),
    path("item/<int:number>/", item),
    path("outer/", include((nested_patterns, "outer"))),
]
