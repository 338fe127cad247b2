"""The benchmark's URLs: every route of the project plus measuring views behind the same
settings and middleware. Only config.settings.bench routes here, so none is reachable in a
deployed server.

- ``bench/floor/``: a do-nothing ``async def`` view, what Django itself costs per request.
- ``bench/submit-floor/``: the least a submit can do and still queue a job that survives a
  fault, with nothing of the project's submit path between: what a second submit path
  outside DRF, the ORM and Celery's ``send_task`` could at best reach.
- ``bench/submit-floor-batched/``: the same with the rows of concurrent submits inserted
  together, one statement per batch: what that least would be if the web process grouped
  its commits.

test/bench_job_api.py measures them beside the floor and the real submit.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import include, path
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from psycopg.conninfo import make_conninfo
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from config.authentication import auser_for_token, token_from_header
from data_processing import multiplexed_redis
from data_processing.job_state import job_key
from data_processing.models import Job
from data_processing.registry import job_kind
from data_processing.services import queued_message


async def floor(request: HttpRequest) -> HttpResponse:
    """What Django itself costs per request: no auth, no query, no Redis."""
    return HttpResponse(b"{}", content_type="application/json")


_FIELDS = Job._meta.concrete_fields
_COLUMNS = [field.column for field in _FIELDS]
_KIND = job_kind("search")
_ROW = f"({', '.join(['%s'] * len(_COLUMNS))})"
_INSERT = f"INSERT INTO {Job._meta.db_table} ({', '.join(_COLUMNS)}) VALUES "  # the model's own names
# About the size of the Celery message a submit publishes (headers, args, delivery info).
_MESSAGE_PADDING = "x" * 900
_MAX_BATCH = 1000
FLOOR_QUEUE = "bench-submit-floor"  # where the floors push their broker-sized messages
_pools: dict[asyncio.AbstractEventLoop, AsyncConnectionPool] = {}
_batches: dict[asyncio.AbstractEventLoop, InsertBatcher] = {}


async def _pool() -> AsyncConnectionPool:
    """One autocommit pool per event loop (per uvicorn process), so an INSERT is one round trip
    and durable once answered, as a submit's commit is."""
    loop = asyncio.get_running_loop()
    pool = _pools.get(loop)
    if pool is None:
        database = settings.DATABASES["default"]
        given = {"host": database["HOST"], "port": database["PORT"], "user": database["USER"],
                 "password": database["PASSWORD"]}  # fmt: skip
        pool = _pools[loop] = AsyncConnectionPool(
            make_conninfo(dbname=database["NAME"], **{name: value for name, value in given.items() if value}),
            min_size=2,
            max_size=20,
            kwargs={"autocommit": True},
            open=False,
        )
        await pool.open()
    return pool


async def _insert_one(values: list[Any]) -> None:
    async with (await _pool()).connection() as connection:
        await connection.execute(_INSERT + _ROW, values)


class InsertBatcher:
    """Group commit in the web process: the rows of every submit that arrives while one INSERT
    is in flight go out together in the next, one statement and one WAL flush for all, and each
    submit is answered once its row is durable. PostgreSQL's per-statement cost, not Django's,
    is what bounds ``_insert_one`` under load."""

    def __init__(self) -> None:
        self._waiting: list[tuple[list[Any], asyncio.Future[None]]] = []
        self._flusher: asyncio.Task[None] | None = None

    async def insert(self, values: list[Any]) -> None:
        done = asyncio.get_running_loop().create_future()
        self._waiting.append((values, done))
        if self._flusher is None:
            self._flusher = asyncio.create_task(self._flush())
        await done

    async def _flush(self) -> None:
        try:
            while self._waiting:
                # PostgreSQL takes at most 65,535 parameters in a statement.
                batch, self._waiting = self._waiting[:_MAX_BATCH], self._waiting[_MAX_BATCH:]
                try:
                    async with (await _pool()).connection() as connection:
                        sql = _INSERT + ", ".join([_ROW] * len(batch))
                        await connection.execute(sql, [value for values, _ in batch for value in values])
                except Exception as exc:  # every waiter gets the failure
                    for _, done in batch:
                        if not done.done():  # a waiter whose client went away is cancelled
                            done.set_exception(exc)
                else:
                    for _, done in batch:
                        if not done.done():
                            done.set_result(None)
        finally:
            self._flusher = None


async def _insert_batched(values: list[Any]) -> None:
    loop = asyncio.get_running_loop()
    batcher = _batches.get(loop) or _batches.setdefault(loop, InsertBatcher())
    await batcher.insert(values)


def submit_floor(insert: Callable[[list[Any]], Awaitable[None]]) -> Callable[..., Awaitable[HttpResponse]]:
    """A view that queues a new job in the fewest steps that keep its guarantees: the token
    from the cache, the body parsed, the job's row inserted by ``insert`` (durable when it
    returns), then its broker message and its Redis mirror together (one round trip). No
    validation, limits, dedup or idempotency: each would add to this, never take away."""

    @csrf_exempt
    async def view(request: HttpRequest) -> HttpResponse:
        key = token_from_header(request)
        user = await auser_for_token(key) if key else None
        if user is None:
            body = b'{"detail": "Not authenticated."}'
            return HttpResponse(body, status=401, content_type="application/json")
        job_id = uuid.uuid4()
        cache_key = f"{_KIND.prefix}:{job_id.hex}"
        now = timezone.now()
        job = Job(
            id=job_id,
            owner_id=user.pk,
            kind=_KIND.name,
            # psycopg's wrapper, not the ORM's conversion: the row goes to psycopg as it is.
            params=Jsonb(json.loads(request.body)),
            cache_key=cache_key,
            fingerprint=job_id.hex * 2,
            message=queued_message(_KIND),
            created_at=now,
            updated_at=now,
        )
        await insert([getattr(job, field.attname) for field in _FIELDS])  # the model's defaults for the rest
        document = json.dumps({"task_id": str(job_id), "state": "PENDING", "cache_key": cache_key}).encode()
        mirror = job_key(str(job_id))
        message = json.dumps({"id": str(job_id), "args": [str(job_id)], "padding": _MESSAGE_PADDING})
        await multiplexed_redis.for_this_loop(settings.REDIS_URL).execute_many(
            ("LPUSH", FLOOR_QUEUE, message),
            ("HSET", mirror, "terminal", "0", "version", str(int(now.timestamp() * 1e6)), "data", document),
            ("EXPIRE", mirror, "3600"),
        )
        return HttpResponse(document, status=201, content_type="application/json")

    return view


urlpatterns = [
    path("bench/floor/", floor),
    path("bench/submit-floor/", submit_floor(_insert_one)),
    path("bench/submit-floor-batched/", submit_floor(_insert_batched)),
    path("", include("config.urls")),
]
