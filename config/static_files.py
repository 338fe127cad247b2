"""WhiteNoise for a stack that runs under ASGI.

WhiteNoise's middleware is synchronous only, so Django ran every request through it in a
thread: one thread hop per request, static or not, before any async view could start (it
cost the do-nothing async view more than half its rate). This subclass keeps WhiteNoise's
own file lookup and serving and, under ASGI, only takes a thread for a path that is static.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
from whitenoise.middleware import WhiteNoiseMiddleware


class AsyncWhiteNoiseMiddleware(WhiteNoiseMiddleware):
    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Any, settings_: Any = settings) -> None:
        super().__init__(get_response, settings_)
        self._static_path = urlparse(settings_.STATIC_URL or "/static/").path
        self._async = iscoroutinefunction(get_response)
        if self._async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if self._async:
            return self._acall(request)
        return super().__call__(request)

    def _lookup(self, path: str) -> Any:
        return self.find_file(path) if self.autorefresh else self.files.get(path)

    async def _acall(self, request: HttpRequest) -> HttpResponseBase:
        if request.path_info.startswith(self._static_path):
            static_file = await sync_to_async(self._lookup)(request.path_info)
            if static_file is not None:
                return await sync_to_async(self.serve)(static_file, request)
        return await self.get_response(request)
