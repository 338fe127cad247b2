"""The polls, status/ and result/, as native async views: the hot path.

Clients call these two over and over while jobs run. Under ASGI a synchronous view (every DRF
view) costs a thread hop and a per-thread context per request, which halved the rate Django
itself can serve. These two are served by a plain ``async def`` that answers from the Redis
job-state mirror (data_processing/job_state.py) with the token from the in-process cache: no
thread, no ORM, at most one Redis round trip. adrf (async DRF) was not adopted: it removes the
thread hop but keeps DRF's per-request stack (request wrapper, content negotiation,
authentication, permission and throttle classes), which is most of what is left to cut once
the hop is gone. ``_NativeAsyncApi`` keeps DRF for the OpenAPI schema and the one error
shape, and serves the same JSON, status codes and headers itself. docs/performance.md ("The
hot path") measures each choice made here.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

from asgiref.sync import async_to_sync, sync_to_async
from cachetools import LRUCache, TTLCache
from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions as drf_exceptions
from rest_framework.request import Request
from rest_framework.serializers import Serializer
from rest_framework.utils.encoders import JSONEncoder as DRFJSONEncoder
from rest_framework.views import APIView

from config.authentication import CachedTokenAuthentication, aauthenticate
from config.errors import ErrorResponseSerializer, api_exception_handler
from config.memo import cached
from config.single_flight import SingleFlight

from . import job_state, selectors
from .exceptions import JobNotFound
from .job_state import JobSnapshot
from .models import Job
from .serializers import (
    CACHE_KEY_PATTERN,
    JobResultSerializer,
    JobStatusSerializer,
    ResultQuerySerializer,
    ResultUnavailableSerializer,
    StatusQuerySerializer,
)

_DRF_HEADERS = {"Vary": "Accept", "Allow": "GET, HEAD, OPTIONS"}
# Answers that cannot change, kept per process so a repeated poll costs no Redis round trip
# (which alone costs more CPU than the rest of the view). A finished job's status document
# is final. A cached result is what its cache key names, whoever computed it; kept briefly
# so it is never served much past its expiry in Redis. Both bounded (entries, bytes).
_finished_status: TTLCache[str, tuple[int, bytes]] = TTLCache(maxsize=4096, ttl=60)
# An active job's status document changes with its mirrored state, which the mirror's bytes
# name exactly, and with the clock through the ETA alone. So it is rendered once per state,
# split around the ETA, and a poll of that state only fills the ETA in: parsing the mirror and
# encoding the document had cost a poll half as much CPU as reading the mirror.
_active_status: LRUCache[bytes, _RenderedStatus] = LRUCache(maxsize=4096)
_recent_results: TTLCache[tuple[int, str], bytes] = TTLCache(maxsize=8 * 2**20, ttl=5, getsizeof=len)
_MAX_RECENT_RESULT_BYTES = 256 * 2**10
# What a poll reads in a thread when the above cannot answer: a kind's typical run time once
# its memo lapses, a job's row once its mirror is due a check. Every poll in flight at that
# moment would read the same; one does, and the rest share its answer.
_typical_duration_reads = SingleFlight()
_job_row_reads = SingleFlight()
_latest_job_reads = SingleFlight()


def _dumps(body: Any) -> bytes:
    """JSON as DRF's renderer writes it (compact, UTF-8, its encoder for dates and UUIDs)."""
    return json.dumps(body, cls=DRFJSONEncoder, ensure_ascii=False, separators=(",", ":")).encode()


def _json_bytes(content: bytes, status: int = 200, headers: dict[str, str] | None = None) -> HttpResponse:
    headers = {**_DRF_HEADERS, **(headers or {})}
    return HttpResponse(content, status=status, content_type="application/json", headers=headers)


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> HttpResponse:
    return _json_bytes(_dumps(body), status, headers)


def _error_response(exc: Exception) -> HttpResponse:
    """The one error shape, through the same handler DRF views use."""
    if isinstance(exc, (drf_exceptions.NotAuthenticated, drf_exceptions.AuthenticationFailed)):
        exc.auth_header = CachedTokenAuthentication.keyword  # what DRF's APIView adds to a 401
    response = api_exception_handler(exc, {"view": None})
    headers = {name: value for name, value in response.items() if name.lower() != "content-type"}
    return _json(response.data, status=response.status_code, headers=headers)


async def _typical_duration(kind: str) -> float | None:
    """The kind's typical run time: from the selector's per-process memo when it has it, so
    an ETA costs a thread hop once a minute (every few seconds while there is no estimate
    yet) rather than once per poll."""
    known, seconds = selectors.typical_duration_known(kind)
    if known:
        return seconds
    return await _typical_duration_reads.run(
        kind, lambda: sync_to_async(selectors.typical_duration_seconds)(kind)
    )


class _NativeAsyncApi(APIView):
    """A GET endpoint served by ``answer`` as a native async view.

    ``as_view`` returns the coroutine function Django runs on the event loop; it carries
    ``cls`` so drf-spectacular documents the endpoint from this class's ``get``, which gives
    the same answer through DRF's synchronous stack.
    """

    @classmethod
    def as_view(cls, **initkwargs: Any) -> Any:
        # Any other method is rare (OPTIONS's metadata, a 405): DRF's own view answers it,
        # as it does on every other endpoint.
        through_drf = sync_to_async(super().as_view(**initkwargs))

        async def view(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method not in ("GET", "HEAD"):
                return await through_drf(request, *args, **kwargs)
            try:
                return await cls.answer(request, await aauthenticate(request))
            except Exception as exc:
                return _error_response(exc)

        view.cls = cls  # type: ignore[attr-defined]
        view.initkwargs = initkwargs  # type: ignore[attr-defined]
        return csrf_exempt(view)

    @classmethod
    async def answer(cls, request: HttpRequest, user: AbstractBaseUser) -> HttpResponse:
        raise NotImplementedError

    def get(self, request: Request) -> HttpResponse:
        return async_to_sync(self.answer)(request._request, request.user)


async def _mirrored_row(
    reads: SingleFlight, key: Hashable, read_row: Callable[[], Job], *, newest: bool = False
) -> JobSnapshot:
    """A job read from its row in a thread and written back to the mirror, for when the
    mirror has nothing or may be behind; polls asking for the same ``key`` meanwhile share
    the read."""

    async def read() -> JobSnapshot:
        snapshot = JobSnapshot.of(await sync_to_async(read_row)())
        await job_state.amirror(snapshot, newest=newest)
        return snapshot

    return await reads.run(key, read)


async def _job_from_row(user: AbstractBaseUser, job_id: str) -> JobSnapshot:
    """The caller's job (404 when no job of theirs has this id)."""
    return await _mirrored_row(
        _job_row_reads, (user.pk, job_id), lambda: selectors.job_get_for_owner(owner=user, job_id=job_id)
    )


async def _latest_job_from_row(user: AbstractBaseUser, cache_key: str) -> JobSnapshot:
    """The caller's newest job for a cache key (404 when they have none)."""
    return await _mirrored_row(
        _latest_job_reads,
        (user.pk, cache_key),
        lambda: selectors.job_latest_for_cache_key(owner=user, cache_key=cache_key),
        newest=True,
    )


@dataclass(frozen=True)
class _RenderedStatus:
    """An active job's status document as bytes, but for the ETA between ``head`` and ``tail``."""

    snapshot: JobSnapshot
    head: bytes
    tail: bytes

    @classmethod
    def of(cls, snapshot: JobSnapshot) -> _RenderedStatus:
        document = selectors.job_status(snapshot, typical_duration=lambda kind: None)
        keys = list(document)
        at = keys.index("eta_seconds")
        before, after = keys[:at], keys[at + 1 :]
        head = _dumps({key: document[key] for key in before})[:-1] + (b"," if before else b"")
        tail = b"," + _dumps({key: document[key] for key in after})[1:] if after else b"}"
        return cls(snapshot, head + b'"eta_seconds":', tail)

    def with_eta(self, eta_seconds: int | None) -> bytes:
        # An int or null written directly: a JSON encoder built for one number cost a poll more.
        return self.head + (b"null" if eta_seconds is None else b"%d" % eta_seconds) + self.tail


async def _eta_seconds(snapshot: JobSnapshot) -> int | None:
    typical = await _typical_duration(snapshot.kind)
    return selectors.job_eta_seconds(snapshot, typical_duration=lambda kind: typical)


class JobStatusApi(_NativeAsyncApi):
    @extend_schema(
        parameters=[StatusQuerySerializer],
        responses={200: JobStatusSerializer, 404: OpenApiResponse(description="No job of yours has it.")},
        summary="A job's status",
    )
    def get(self, request: Request) -> HttpResponse:
        return super().get(request)

    @classmethod
    async def answer(cls, request: HttpRequest, user: AbstractBaseUser) -> HttpResponse:
        job_id = _valid_query(request, StatusQuerySerializer, "task_id", _as_uuid, _PLAIN_STATUS_QUERY)
        finished = cached(_finished_status, job_id)
        if finished is not None and finished[0] == user.pk:
            return _json_bytes(finished[1])
        mirrored = await job_state.aget_mirrored(job_id)
        rendered = cached(_active_status, mirrored) if mirrored else None
        if rendered is None or rendered.snapshot.is_stale():
            snapshot = JobSnapshot.from_json(job_id, mirrored) if mirrored else None
            from_mirror = snapshot is not None and not snapshot.is_stale()
            if not from_mirror:
                snapshot = await _job_from_row(user, job_id)
            if snapshot.owner_id != user.pk:
                raise JobNotFound("No job with this task_id.")
            if snapshot.is_terminal:
                content = _dumps(selectors.job_status(snapshot, typical_duration=lambda kind: None))
                _finished_status[job_id] = (snapshot.owner_id, content)
                return _json_bytes(content)
            rendered = _RenderedStatus.of(snapshot)
            if from_mirror:  # only what those bytes said, never a row read in their place
                _active_status[mirrored] = rendered
        if rendered.snapshot.owner_id != user.pk:
            raise JobNotFound("No job with this task_id.")
        return _json_bytes(rendered.with_eta(await _eta_seconds(rendered.snapshot)))


def _as_uuid(value: str) -> str:
    return str(uuid.UUID(value))


def _as_cache_key(value: str) -> str:
    if not CACHE_KEY_PATTERN.fullmatch(value):
        raise ValueError(value)
    return value


# The query a client sends almost always: the one parameter alone, its value already in the
# form the view uses. Matched directly, it needs no ``request.GET``: building that QueryDict
# cost a poll more than its token check. Any other query goes through ``request.GET``.
_PLAIN_STATUS_QUERY = re.compile(r"task_id=([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})")
_PLAIN_RESULT_QUERY = re.compile(r"cache_key=([a-z_]{1,20})(?::|%3[Aa])([0-9a-f]{32})")


def _valid_query(
    request: HttpRequest,
    serializer: type[Serializer],
    name: str,
    parse: Callable[[str], str],
    plain: re.Pattern[str],
) -> str:
    """The one query parameter: from ``plain`` (its groups joined by ":") when the query
    string is exactly that; otherwise from ``request.GET``, parsed directly; a missing or
    bad one goes through the serializer, which raises the usual 400 naming it."""
    match = plain.fullmatch(request.META.get("QUERY_STRING", ""))
    if match:
        return ":".join(match.groups())
    value = request.GET.get(name)
    if value is not None:
        try:
            return parse(value)
        except ValueError:
            pass
    query = serializer(data=request.GET)
    query.is_valid(raise_exception=True)
    return str(query.validated_data[name])


class JobResultApi(_NativeAsyncApi):
    @extend_schema(
        parameters=[ResultQuerySerializer],
        summary="A job's result, by cache key",
        responses={
            200: OpenApiResponse(JobResultSerializer, description="Ready."),
            202: OpenApiResponse(
                ResultUnavailableSerializer,
                description='Still queued or running (`status` "not_ready", `state`, `progress`); '
                "see Retry-After.",
            ),
            404: OpenApiResponse(ErrorResponseSerializer, description="No job of yours has this cache key."),
            409: OpenApiResponse(
                ResultUnavailableSerializer,
                description='The job failed (`status` "failed", `code` "job_failed", `error`) or was '
                'cancelled (`status` "revoked", `code` "job_revoked").',
            ),
            410: OpenApiResponse(
                ResultUnavailableSerializer,
                description='The result expired (`status` "expired", `code` "result_expired"): submit again.',
            ),
            503: OpenApiResponse(
                ErrorResponseSerializer,
                description="Redis, which holds the results, is unreachable (`service_unavailable`); "
                "see Retry-After.",
            ),
        },
    )
    def get(self, request: Request) -> HttpResponse:
        return super().get(request)

    @classmethod
    async def answer(cls, request: HttpRequest, user: AbstractBaseUser) -> HttpResponse:
        cache_key = _valid_query(
            request, ResultQuerySerializer, "cache_key", _as_cache_key, _PLAIN_RESULT_QUERY
        )
        raw = cached(_recent_results, (user.pk, cache_key))
        if raw is not None:
            return _result_response(cache_key, raw)
        job_id, raw = await job_state.alatest_with_result(user.pk, cache_key)
        if job_id is not None and raw is not None:
            if len(raw) <= _MAX_RECENT_RESULT_BYTES:
                _recent_results[(user.pk, cache_key)] = raw
            return _result_response(cache_key, raw)
        snapshot = await job_state.aget(job_id) if job_id else None
        if snapshot is None or snapshot.is_stale():
            snapshot = await _latest_job_from_row(user, cache_key)
        if raw is not None:
            return _result_response(cache_key, raw)
        raise selectors.result_unavailable(snapshot)


def _result_response(cache_key: str, raw: bytes) -> HttpResponse:
    """200 with the cached JSON spliced in as stored: a large result is never parsed and
    encoded again. The key passed ResultQuerySerializer's pattern, so it needs no escaping."""
    return _json_bytes(b'{"status":"success","cache_key":"' + cache_key.encode() + b'","data":' + raw + b"}")
