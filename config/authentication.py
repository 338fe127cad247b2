"""Token authentication that accepts ``Bearer`` and ``Token`` and caches look-ups briefly.

A dashboard page fires many requests at once; without the cache each one would look the
same token up in the database. The cache is per process, bounded in size and
time, so a revoked token stops working within ``TOKEN_CACHE_SECONDS``.
"""

from __future__ import annotations

import hashlib
import threading

from asgiref.sync import sync_to_async
from cachetools import TTLCache
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest
from rest_framework import HTTP_HEADER_ENCODING, exceptions
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token

from config.memo import cached
from config.single_flight import SingleFlight

_KEYWORDS = (b"token", b"bearer")
_cache: TTLCache[str, AbstractBaseUser] = TTLCache(
    maxsize=settings.TOKEN_CACHE_MAX_ENTRIES, ttl=settings.TOKEN_CACHE_SECONDS
)
_lock = threading.Lock()
# Requests in flight when a token's entry lapses all miss it at once: one looks it up.
_lookups = SingleFlight()


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _cached_user(digest: str) -> AbstractBaseUser | None:
    with _lock:
        return cached(_cache, digest)


def user_for_token(key: str) -> AbstractBaseUser | None:
    """The active user a token belongs to, or None; shared by HTTP and websocket auth."""
    digest = _digest(key)
    user = _cached_user(digest)
    if user is not None:
        return user
    token = Token.objects.select_related("user").filter(key=key).first()
    if token is None or not token.user.is_active:
        return None
    with _lock:
        _cache[digest] = token.user
    return token.user


def clear_token_cache() -> None:
    with _lock:
        _cache.clear()


async def auser_for_token(key: str) -> AbstractBaseUser | None:
    """``user_for_token`` for async views: a cache hit costs no thread hop, and concurrent
    misses of the same token share one."""
    digest = _digest(key)
    user = _cached_user(digest)
    if user is not None:
        return user
    return await _lookups.run(digest, lambda: sync_to_async(user_for_token)(key))


def token_from_header(request: HttpRequest) -> str | None:
    """The key of an ``Authorization: Bearer|Token <key>`` header; None for no or another scheme.

    Read from ``META`` as DRF's ``get_authorization_header`` reads it from ``headers``: on a
    poll nothing else asks for ``request.headers``, and building it (every header of the
    request) cost more than the rest of the token check."""
    auth = request.META.get("HTTP_AUTHORIZATION", b"")
    if isinstance(auth, str):
        auth = auth.encode(HTTP_HEADER_ENCODING)
    auth = auth.split()
    if not auth or auth[0].lower() not in _KEYWORDS:
        return None
    if len(auth) != 2:
        raise exceptions.AuthenticationFailed("Invalid token header: expected '<keyword> <token>'.")
    try:
        return auth[1].decode()
    except UnicodeError as exc:
        raise exceptions.AuthenticationFailed("Invalid token header: not valid text.") from exc


class CachedTokenAuthentication(TokenAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):  # type: ignore[no-untyped-def]
        key = token_from_header(request)
        if key is None:
            return None
        user = user_for_token(key)
        if user is None:
            raise exceptions.AuthenticationFailed("Invalid or inactive token.")
        return (user, key)


async def aauthenticate(request: HttpRequest) -> AbstractBaseUser:
    """What DRF's authentication and IsAuthenticated decide for this project's API, for a
    native async view: the token first (from the cache), then the session (no CSRF check:
    only safe methods are served this way). Raises DRF's 401 exceptions."""
    key = token_from_header(request)
    if key is not None:
        user = await auser_for_token(key)
        if user is None:
            raise exceptions.AuthenticationFailed("Invalid or inactive token.")
        return user
    user = await request.auser()
    if user is None or not user.is_authenticated or not user.is_active:
        raise exceptions.NotAuthenticated()
    return user
