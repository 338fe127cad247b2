"""Websocket authentication and origin checks.

A browser authenticates with its session cookie; other clients with their API token, sent
either as a subprotocol (``new WebSocket(url, ["bearer", token])``: it never appears in a
URL, so in no access log) or, for older clients, as ``?token=`` (masked in every log line by
config/logging_filters.py).

Browsers always send Origin, and a session cookie rides along with any page's websocket,
so a browser's Origin must be this server's own origin (scheme, host and port) or one the
settings trust; a non-browser client sends none and must bring a token anyway.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote_plus, urlsplit

from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from channels.middleware import BaseMiddleware
from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import split_domain_port, validate_host

from config.authentication import user_for_token

# The subprotocol that announces a token: the client offers ["bearer", <token>].
TOKEN_SUBPROTOCOL = "bearer"  # noqa: S105 - a protocol name, not a secret
_DEFAULT_PORTS = {"http": 80, "https": 443}


def token_from_scope(scope: dict[str, Any]) -> str | None:
    """The token a client sent, from its subprotocols or from ``?token=`` (that name exactly)."""
    subprotocols = list(scope.get("subprotocols") or [])
    if TOKEN_SUBPROTOCOL in subprotocols:
        position = subprotocols.index(TOKEN_SUBPROTOCOL)
        if position + 1 < len(subprotocols):
            return subprotocols[position + 1]
    for pair in scope.get("query_string", b"").decode("latin-1").split("&"):
        name, _, value = pair.partition("=")
        if name == "token" and value:
            return unquote_plus(value)
    return None


class TokenAuthMiddleware(BaseMiddleware):
    """Sets scope["user"] from the token when one is sent; otherwise the session decides."""

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        token = token_from_scope(scope)
        if token:
            user = await database_sync_to_async(user_for_token)(token)
            if user is not None:
                scope = {**scope, "user": user}
        return await super().__call__(scope, receive, send)


class _SessionUnlessTokenMiddleware(BaseMiddleware):
    """Run the session stack, but keep a user the token already authenticated."""

    def __init__(self, inner: Any) -> None:
        super().__init__(inner)
        self.with_session = AuthMiddlewareStack(inner)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        if "user" in scope:
            return await self.inner(scope, receive, send)
        return await self.with_session(scope, receive, send)


def _origin_tuple(url: str) -> tuple[str, str, int] | None:
    try:
        parts = urlsplit(url.strip().lower())
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme)
    except ValueError:
        return None
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname or port is None:
        return None
    return parts.scheme, parts.hostname, port


def trusted_origins() -> set[tuple[str, str, int]]:
    """Origins other than the server's own that may open websockets (CORS and CSRF settings)."""
    listed = [*settings.CORS_ALLOWED_ORIGINS, *settings.CSRF_TRUSTED_ORIGINS]
    return {origin for origin in map(_origin_tuple, listed) if origin is not None}


def origin_allowed(scope: dict[str, Any]) -> bool:
    headers = dict(scope.get("headers") or [])
    raw_origin = headers.get(b"origin")
    if raw_origin is None:
        return True
    origin = _origin_tuple(raw_origin.decode("latin-1"))
    if origin is None:
        return False
    if origin in trusted_origins():
        return True
    # Same origin: the page was served by the host the browser is talking to, over the
    # matching scheme (ws from http, wss from https), on the same port.
    host, port = split_domain_port(headers.get(b"host", b"").decode("latin-1").lower())
    if not host or not validate_host(host, settings.ALLOWED_HOSTS):
        return False
    page_scheme = "https" if scope.get("scheme") == "wss" else "http"
    own = (page_scheme, host.strip("[]"), int(port) if port else _DEFAULT_PORTS[page_scheme])
    return origin == own


class OriginCheckMiddleware(BaseMiddleware):
    """Refuse the handshake of a websocket whose Origin is foreign (cross-site hijacking)."""

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        if scope.get("type") == "websocket" and not origin_allowed(scope):
            return await WebsocketDenier()(scope, receive, send)
        return await self.inner(scope, receive, send)


def websocket_auth_stack(inner: Any) -> Any:
    return OriginCheckMiddleware(TokenAuthMiddleware(_SessionUnlessTokenMiddleware(inner)))
