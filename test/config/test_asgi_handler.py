"""The ASGI handler lends each request a kept thread (config/asgi_handler.py).

Requests go through the handler as an ASGI server would call it, in-process.
"""

from __future__ import annotations

import asyncio
import hashlib
import inspect
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.core import signals
from django.core.handlers.asgi import ASGIHandler
from django.urls import resolve

from config.asgi_handler import MAX_IDLE_REQUEST_THREADS, ReusedThreadASGIHandler
from test.support import thread_urls

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def handler(settings) -> ReusedThreadASGIHandler:
    settings.ROOT_URLCONF = "test.support.thread_urls"
    return ReusedThreadASGIHandler()


def http_scope(path: str, method: str) -> dict[str, Any]:
    return {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
        "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
        "root_path": "", "headers": [(b"host", b"localhost")], "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 80),
    }  # fmt: skip


async def send_in_chunks(
    handler: ReusedThreadASGIHandler, path: str, chunks: list[bytes]
) -> tuple[int, dict[bytes, bytes], bytes, int]:
    """A POST whose body arrives in ``chunks``: the status, headers and body of the answer,
    and how many chunks the server read."""
    pending = list(chunks)
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        if pending:
            return {"type": "http.request", "body": pending.pop(0), "more_body": bool(pending)}
        await asyncio.Event().wait()  # the client stays
        raise AssertionError

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await handler(http_scope(path, "POST"), receive, send)
    (start,) = [m for m in sent if m["type"] == "http.response.start"]
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    headers = {name.lower(): value for name, value in start["headers"]}
    return start["status"], headers, body, len(chunks) - len(pending)


async def get(
    handler: ReusedThreadASGIHandler,
    path: str,
    *,
    method: str = "GET",
    body: bytes = b"",
    hang_up: asyncio.Event | None = None,
) -> tuple[int | None, Any]:
    """One request as uvicorn makes it: the client stays until its response is complete,
    then ``receive`` reports a disconnect. With ``hang_up``, it leaves once that is set
    instead; the status is then None if no response had begun."""
    scope = http_scope(path, method)
    sent: list[dict[str, Any]] = []
    delivered = asyncio.Event()
    answered = asyncio.Event()

    async def receive() -> dict[str, Any]:
        if not delivered.is_set():
            delivered.set()
            return {"type": "http.request", "body": body, "more_body": False}
        await (hang_up or answered).wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)
        if message["type"] == "http.response.body" and not message.get("more_body", False):
            answered.set()

    await handler(scope, receive, send)
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    status = next((m["status"] for m in sent if m["type"] == "http.response.start"), None)
    return status, json.loads(body) if status == 200 else body


def test_requests_one_after_another_reuse_one_thread_and_hand_back_its_connection(handler):
    async def three() -> list[Any]:
        return [(await get(handler, "/thread/"))[1] for _ in range(3)]

    answers = asyncio.run(three())
    assert len({answer["thread"] for answer in answers}) == 1
    assert threading.get_ident() not in {answer["thread"] for answer in answers}
    # Each request opened a connection; the next one on the same thread found it handed back.
    assert [answer["had_connection"] for answer in answers] == [False, False, False]
    assert len(handler.idle) == 1


def test_concurrent_requests_each_get_a_thread_of_their_own(handler):
    """Three requests that each wait for the other two: on a shared thread they would never meet."""
    thread_urls.barrier = threading.Barrier(3, timeout=10)

    async def together() -> list[tuple[int, Any]]:
        return await asyncio.gather(*(get(handler, "/barrier/") for _ in range(3)))

    answers = asyncio.run(together())
    assert [status for status, _ in answers] == [200, 200, 200]
    assert len({body["thread"] for _, body in answers}) == 3


def test_idle_threads_are_bounded(handler):
    parties = MAX_IDLE_REQUEST_THREADS + 6
    thread_urls.barrier = threading.Barrier(parties, timeout=20)

    async def burst() -> list[tuple[int, Any]]:
        return await asyncio.gather(*(get(handler, "/barrier/") for _ in range(parties)))

    assert {status for status, _ in asyncio.run(burst())} == {200}
    assert len(handler.idle) == MAX_IDLE_REQUEST_THREADS


def test_a_cancelled_request_does_not_lend_its_busy_thread_again(handler):
    """A cancelled request's view is still running on its thread: the next request must not
    queue behind it."""
    thread_urls.release.clear()

    async def cancel_then_ask() -> Any:
        held = asyncio.create_task(get(handler, "/hold/"))
        await asyncio.sleep(0.3)  # the view is waiting on ``release`` by now
        held.cancel()
        with pytest.raises(asyncio.CancelledError):
            await held
        assert len(handler.idle) == 0
        return await asyncio.wait_for(get(handler, "/thread/"), timeout=5)

    try:
        status, _ = asyncio.run(cancel_then_ask())
    finally:
        thread_urls.release.set()
    assert status == 200


def test_a_view_still_running_when_its_request_ends_still_reads_its_body(handler):
    """The client hangs up (Django waits for the view), then the server stops and cancels
    every task (Django no longer waits, and closes the request's body file): the view, still
    running on a shared thread as a submit does, reads its body all the same."""
    thread_urls.release.clear()
    thread_urls.bodies_read.clear()
    body = b'{"filters": {"keywords": ["road"]}}'

    async def hang_up_then_stop() -> bool:
        hang_up = asyncio.Event()
        submit = get(handler, "/hold-then-read/", method="POST", body=body, hang_up=hang_up)
        held = asyncio.create_task(submit)
        await asyncio.sleep(0.3)  # the view is waiting on ``release`` by now
        hang_up.set()
        await asyncio.sleep(0.3)
        for task in asyncio.all_tasks() - {asyncio.current_task()}:
            task.cancel()  # as asyncio.run does to what is left when uvicorn stops
        await asyncio.wait([held], timeout=5)
        # Only now may the view read; let go of it here, or asyncio.run's closing wait for
        # the executor's threads would hold it for its whole timeout.
        thread_urls.release.set()
        return held.done()

    try:
        request_ended = asyncio.run(hang_up_then_stop())
    finally:
        thread_urls.release.set()
    deadline = time.monotonic() + 5
    while not thread_urls.bodies_read and time.monotonic() < deadline:
        time.sleep(0.01)
    assert request_ended
    assert thread_urls.bodies_read == [body]


def test_a_body_past_the_limit_is_read_no_further_and_refused_with_a_413(handler, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000

    async def over_then_at_the_limit() -> list[Any]:
        return [
            await send_in_chunks(handler, "/api/v1/anything/", [b"x" * 300] * 100),
            await send_in_chunks(handler, "/dashboard/", [b"x" * 300] * 100),
            await send_in_chunks(handler, "/body-size/", [b"x" * 250] * 4),
        ]

    api, page, at_limit = asyncio.run(over_then_at_the_limit())
    status, headers, body, chunks_read = api
    assert (status, chunks_read, headers[b"connection"]) == (413, 4, b"close")
    assert json.loads(body) == {
        "status": "error",
        "code": "request_too_large",
        "message": "The request body is larger than the limit of 1000 bytes.",
        "errors": {},
    }
    assert (page[0], page[3], page[2]) == (413, 4, b"The request body is too large.")
    assert (at_limit[0], json.loads(at_limit[2]), at_limit[3]) == (200, {"size": 1000}, 4)
    assert len(handler.idle) == 1  # every request's thread lent again


def test_a_view_that_raises_is_a_500_and_its_thread_is_lent_again(handler):
    async def failing_then_fine() -> list[int]:
        first, _ = await get(handler, "/fail/")
        second, _ = await get(handler, "/thread/")
        return [first, second]

    assert asyncio.run(failing_then_fine()) == [500, 200]
    assert len(handler.idle) == 1


def test_a_literal_route_is_resolved_once_and_answers_as_django_resolves_it(handler):
    async def twice() -> list[tuple[int, Any]]:
        return [await get(handler, "/outer/deeper/") for _ in range(2)]

    assert asyncio.run(twice()) == [(200, {"view": "nested", "route": "outer/deeper/"})] * 2
    (kept,) = handler.literal_routes.values()
    expected = resolve("/outer/deeper/")
    assert (kept.func, kept.view_name, kept.namespaces) == (expected.func, "outer:nested", ["outer"])


def test_a_route_with_arguments_and_an_unknown_path_are_resolved_every_time(handler):
    async def ask() -> list[tuple[int, Any]]:
        return [await get(handler, path) for path in ("/item/1/", "/item/2/", "/nowhere/")]

    (one, two, (missing, _)) = asyncio.run(ask())
    assert (one[1]["number"], two[1]["number"], missing) == (1, 2, 404)
    assert handler.literal_routes == {}


def test_another_urlconf_resolves_a_kept_path_its_own_way(handler, settings):
    assert asyncio.run(get(handler, "/outer/deeper/"))[1]["view"] == "nested"

    settings.ROOT_URLCONF = "test.support.other_urls"

    assert asyncio.run(get(handler, "/outer/deeper/"))[1]["view"] == "elsewhere"
    assert len(handler.literal_routes) == 2


@pytest.fixture
def signal_threads() -> Iterator[list[tuple[str, int]]]:
    """Which signal each request sent, and on which thread, in order. Connected after the
    handler is built, so as not to change how it sends them."""
    sent: list[tuple[str, int]] = []

    def started(**kwargs: Any) -> None:
        sent.append(("started", threading.get_ident()))

    def finished(**kwargs: Any) -> None:
        sent.append(("finished", threading.get_ident()))

    signals.request_started.connect(started)
    signals.request_finished.connect(finished)
    yield sent
    signals.request_started.disconnect(started)
    signals.request_finished.disconnect(finished)


def test_a_request_that_never_runs_sync_code_is_not_sent_to_its_thread(handler, signal_threads):
    """No hop for the request signals: Django's receivers would find nothing on that thread."""
    assert handler.signals_follow_the_thread
    status, body = asyncio.run(get(handler, "/on-the-loop/"))
    loop_thread = body["thread"]
    assert (status, loop_thread) == (200, threading.get_ident())  # asyncio.run's loop is here
    assert signal_threads == [("finished", loop_thread)]
    (kept,) = handler.idle
    assert not kept.used


def test_a_request_that_runs_sync_code_gets_both_signals_on_its_thread_around_it(handler, signal_threads):
    async def twice() -> list[Any]:
        return [(await get(handler, "/through-the-thread/"))[1] for _ in range(2)]

    first, second = asyncio.run(twice())
    view_thread = first["thread"]
    assert view_thread not in (threading.get_ident(), None)
    assert signal_threads == [("started", view_thread), ("finished", view_thread)] * 2
    # The first request's connection was handed back at its end, on its thread.
    assert (first["had_connection"], second["had_connection"], second["thread"]) == (
        False,
        False,
        view_thread,
    )


@pytest.mark.parametrize("sender", [None, ReusedThreadASGIHandler], ids=["any sender", "this handler"])
def test_with_any_other_receiver_every_request_goes_to_its_thread_as_djangos_handler(settings, sender):
    settings.ROOT_URLCONF = "test.support.thread_urls"
    threads: list[int] = []

    def elsewhere(**kwargs: Any) -> None:
        threads.append(threading.get_ident())

    signals.request_started.connect(elsewhere, sender=sender)
    try:
        handler = ReusedThreadASGIHandler()
        status, body = asyncio.run(get(handler, "/on-the-loop/"))
    finally:
        signals.request_started.disconnect(elsewhere, sender=sender)
    assert not handler.signals_follow_the_thread
    assert status == 200
    assert len(threads) == 1 and threads[0] != body["thread"]


def test_djangos_handle_is_still_the_one_the_handler_copies():
    """The handler's ``handle`` is Django 5.2's with the request signals moved: when Django
    changes its own, bring the copy up to date, then this hash."""
    source = inspect.getsource(ASGIHandler.handle).encode()
    assert (
        hashlib.sha256(source).hexdigest()
        == "98faeb5bef800331e6a8002fbc96b30e4122a23438ae45a047190a531ea11323"
    )
