"""Rate limits that hold under concurrency and at every moment: submits, the synchronous
chip endpoints, logins.

DRF's own throttles keep each client's request history as a list in the cache and write it
back after reading it, so concurrent requests all read the same history and all pass (200
submits at concurrency 80 went through a limit of 120/min). A fixed-window counter (one key
per client and window, ``INCR``) is atomic but lets twice the limit through around a window's
end: a rate of 2 a minute once let 3 submits through in 11 ms. So each limit here is a moving
window (the ``limits`` library's, on Redis): a list of the times of the client's accepted
requests, checked and added to in one Lua script, so a burst at any concurrency gets exactly
the limit through and no span of the period holds more. The list holds at most the limit's
count of times and expires a period after the last one. The storage runs on the process's
shared Redis client, because under ASGI Django's cache object, and the client django-redis
builds for it, are made anew for every request, which cost a twentieth of a submit
(measured). Two small adapters put it behind DRF's throttle interface (429 with Retry-After
in the one error shape) and Django's login view.
"""

from __future__ import annotations

import functools
import math
import re
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from limits import RateLimitItemPerSecond
from limits.storage import RedisStorage
from limits.strategies import MovingWindowRateLimiter
from rest_framework import parsers, serializers
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle

from .parsers import BoundedJSONParser
from .shared_redis import redis_client

# Prefix of the limits' keys; tests delete them to start each test with none counted.
KEY_PREFIX = "rl:"
_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """``"120/min"`` → (120, 60): requests per period, DRF's notation (the period's first
    letter counts; a number before it multiplies it, as in ``"10/5m"``)."""
    count, _, period = rate.partition("/")
    match = re.fullmatch(r"\s*(\d*)\s*([smhd])[a-z]*\s*", period)
    if not count.strip().isdigit() or match is None:
        raise ImproperlyConfigured(f"Rate {rate!r}: expected requests/period, such as 120/min or 10/5m.")
    multiple, unit = match.groups()
    return int(count), int(multiple or 1) * _PERIODS[unit]


def seconds_until_allowed(request: HttpRequest, *, scope: str, ident: str, rate: str) -> int | None:
    """Count one request of ``ident`` against ``rate``; None if allowed, else seconds to wait.

    A refused request is not counted, so a client that keeps knocking while refused is let
    in as soon as its oldest accepted request leaves the window."""
    del request  # the adapters' common signature; the ident already names the client
    limit, period = parse_rate(rate)
    item = RateLimitItemPerSecond(limit, period, namespace=scope)
    limiter = _limiter()
    if limiter.hit(item, ident):
        return None
    reset_at, _remaining = limiter.get_window_stats(item, ident)
    return max(1, math.ceil(reset_at - time.time()))


def _limiter() -> MovingWindowRateLimiter:
    return _limiter_on(settings.CACHES["default"]["LOCATION"])


@functools.lru_cache(maxsize=8)
def _limiter_on(location: str) -> MovingWindowRateLimiter:
    del location  # the cache key: redis_client() reads the current settings
    pool = redis_client().connection_pool
    # Given a pool, the storage reads its URI only for the scheme (redis, not valkey).
    storage = RedisStorage("redis://", connection_pool=pool, key_prefix=KEY_PREFIX.rstrip(":"))
    return MovingWindowRateLimiter(storage)


class AtomicRateThrottle(BaseThrottle):
    """A DRF throttle per authenticated user; ``scope`` names its rate in DEFAULT_THROTTLE_RATES."""

    scope: str
    THROTTLE_RATES = api_settings.DEFAULT_THROTTLE_RATES

    def __init__(self) -> None:
        self._wait: int | None = None

    def idents(self, request: Request) -> list[tuple[str, str]]:
        """(scope, ident) pairs counted for this request; each has the scope's rate."""
        return [(self.scope, f"user:{request.user.pk}")] if request.user else []

    def allow_request(self, request: Request, view: Any) -> bool:
        for scope, ident in self.idents(request):
            rate = self.THROTTLE_RATES[scope]
            wait = seconds_until_allowed(request._request, scope=scope, ident=ident, rate=rate)
            if wait is not None:
                self._wait = wait
                return False
        return True

    def wait(self) -> int | None:
        return self._wait


class JobSubmitThrottle(AtomicRateThrottle):
    scope = "job_submit"


class ChipThrottle(AtomicRateThrottle):
    """The synchronous chip endpoints run their query inside the request: bounded per user."""

    scope = "chip"


def client_ip(request: HttpRequest) -> str:
    # REMOTE_ADDR only: X-Forwarded-For is whatever the client says unless a proxy we trust
    # rewrites it, and uvicorn/gunicorn already put the proxy's client there when told to.
    return request.META.get("REMOTE_ADDR") or "unknown"


def login_idents(request: HttpRequest, username: Any) -> list[tuple[str, str]]:
    """Guesses are bounded per account (however many addresses) and per address (however many accounts)."""
    idents = [("login_ip", f"ip:{client_ip(request)}")]
    if isinstance(username, str) and username:
        idents.append(("login_user", f"user:{username.strip().lower()[:150]}"))
    return idents


class LoginThrottle(AtomicRateThrottle):
    def idents(self, request: Request) -> list[tuple[str, str]]:
        data = request.data if isinstance(request.data, dict) else {}
        return login_idents(request._request, data.get("username"))


class _TokenSerializer(serializers.Serializer):
    """Schema only: the token endpoint's answer."""

    token = serializers.CharField()


class ThrottledObtainAuthToken(ObtainAuthToken):
    """POST username and password for an API token, at most LOGIN_THROTTLE_RATE per account."""

    throttle_classes = (LoginThrottle,)
    parser_classes = (BoundedJSONParser, parsers.FormParser)

    @extend_schema(
        summary="Exchange a username and password for an API token",
        request=AuthTokenSerializer,
        responses={200: _TokenSerializer, 400: OpenApiResponse(description="Wrong username or password.")},
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Any:
        return super().post(request, *args, **kwargs)


def login_throttled(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Wrap a Django login view (the dashboard's, the browsable API's, the admin's) in the
    token endpoint's limits: a POST over them is a 429 with Retry-After."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method == "POST":
            for scope, ident in login_idents(request, request.POST.get("username")):
                rate = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"][scope]
                wait = seconds_until_allowed(request, scope=scope, ident=ident, rate=rate)
                if wait is not None:
                    return HttpResponse(
                        f"Too many login attempts; try again in {wait} seconds.\n",
                        status=429,
                        content_type="text/plain",
                        headers={"Retry-After": str(wait)},
                    )
        return view(request, *args, **kwargs)

    return wrapper
