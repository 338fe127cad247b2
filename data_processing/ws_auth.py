"""Websocket authentication: the browser's session cookie, or ``?token=`` for other clients.

Browsers cannot set an Authorization header on a websocket, hence the query parameter;
the access log filter in config/logging_filters.py keeps the token out of log lines.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from channels.middleware import BaseMiddleware
from channels.security.websocket import OriginValidator
from django.conf import settings

from config.authentication import user_for_token


class QueryTokenAuthMiddleware(BaseMiddleware):
    """Sets scope["user"] from ``?token=`` when given; otherwise the session decides."""

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        token = parse_qs(scope.get("query_string", b"").decode()).get("token", [None])[0]
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


class SameHostOriginValidator(OriginValidator):
    """Browsers always send Origin: refuse foreign ones (cross-site websocket hijacking).
    Non-browser clients send none and must authenticate with a token anyway."""

    def valid_origin(self, parsed_origin: Any) -> bool:
        return parsed_origin is None or super().valid_origin(parsed_origin)


def websocket_auth_stack(inner: Any) -> Any:
    allowed = list(settings.ALLOWED_HOSTS) + [
        origin.split("://", 1)[-1] for origin in settings.CORS_ALLOWED_ORIGINS
    ]
    if settings.DEBUG:
        allowed.append("*")
    return SameHostOriginValidator(QueryTokenAuthMiddleware(_SessionUnlessTokenMiddleware(inner)), allowed)
