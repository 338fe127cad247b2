"""Django's own middleware, with hooks that do no I/O run on the event loop.

Under ASGI, Django's ``MiddlewareMixin`` runs every ``process_request`` and
``process_response`` in a thread (``sync_to_async``), whether or not the hook can block. With
the seven middleware this project needs that is a dozen thread hops per request, and they,
not the views, set the rate of a do-nothing async view. Each class below is the Django
middleware of the same name; it runs the hooks inline when they only read and set headers,
cookies and attributes, and keeps the thread for the one case that can touch the database:
a session (or the messages stored in it) that this request actually used.

Each hook's I/O was checked against Django 5.2's source; re-check on a Django upgrade.
"""

from __future__ import annotations

from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth import middleware as auth
from django.contrib.messages import middleware as messages
from django.contrib.sessions import middleware as sessions
from django.http import HttpRequest, HttpResponseBase, HttpResponsePermanentRedirect
from django.middleware import clickjacking, common, csrf, security
from django.utils.http import escape_leading_slashes

from .errors import api_not_found, is_api_request


class _InlineHooks:
    """Runs ``process_request``/``process_response`` on the event loop (CPU-only hooks)."""

    get_response: Any

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.process_request(request) if hasattr(self, "process_request") else None
        response = response or await self.get_response(request)
        if hasattr(self, "process_response"):
            if self._response_may_block(request):
                return await sync_to_async(self.process_response, thread_sensitive=True)(request, response)
            response = self.process_response(request, response)
        return response

    def _response_may_block(self, request: HttpRequest) -> bool:
        return False


class SecurityMiddleware(_InlineHooks, security.SecurityMiddleware):
    """Redirects and headers only."""


class PermanentRedirectKeepingMethod(HttpResponsePermanentRedirect):
    """308: the client repeats the same method with the same body at the new URL."""

    status_code = 308


class CommonMiddleware(_InlineHooks, common.CommonMiddleware):
    """User-agent and slash checks: URL resolving, no I/O.

    A URL missing its trailing slash is redirected with a 308, so a POST arrives as the same
    POST (Django's 301 turns it into a GET, and under DEBUG it raised instead: a 500). Under
    DEBUG Django answers a URL that matches nothing with its HTML page; under /api/ the
    answer is the one error shape in every mode.
    """

    response_redirect_class = PermanentRedirectKeepingMethod

    def get_full_path_with_slash(self, request: HttpRequest) -> str:
        return escape_leading_slashes(request.get_full_path(force_append_slash=True))

    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        response = super().process_response(request, response)
        if (
            response.status_code == 404
            and settings.DEBUG
            and is_api_request(request)
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            return api_not_found()  # Django's technical page, where the API promises JSON
        return response


class CsrfViewMiddleware(_InlineHooks, csrf.CsrfViewMiddleware):
    """Token from the cookie (CSRF_USE_SESSIONS is off), checked against the already read body."""

    async def process_view(self, request: HttpRequest, callback: Any, args: Any, kwargs: Any) -> Any:
        # A coroutine, so the handler does not wrap it in a thread either.
        return super().process_view(request, callback, args, kwargs)


class AuthenticationMiddleware(_InlineHooks, auth.AuthenticationMiddleware):
    """Sets the lazy ``request.user``/``auser``; the session is read only when a view asks."""


class SessionMiddleware(_InlineHooks, sessions.SessionMiddleware):
    """Saving a session writes the database: only when this request used it."""

    def _response_may_block(self, request: HttpRequest) -> bool:
        return request.session.accessed


class MessageMiddleware(_InlineHooks, messages.MessageMiddleware):
    """Storing messages may load and write the session: only when this request used them."""

    def _response_may_block(self, request: HttpRequest) -> bool:
        storage = getattr(request, "_messages", None)
        return storage is not None and (storage.used or storage.added_new)


class XFrameOptionsMiddleware(_InlineHooks, clickjacking.XFrameOptionsMiddleware):
    """One header."""
