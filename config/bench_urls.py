"""The benchmark's URLs: every route of the project plus ``bench/floor/``, a do-nothing
``async def`` view behind the same settings and middleware. Only config.settings.bench
routes here, so the floor view is never reachable in a deployed server."""

from django.http import HttpRequest, HttpResponse
from django.urls import include, path


async def floor(request: HttpRequest) -> HttpResponse:
    """What Django itself costs per request: no auth, no query, no Redis."""
    return HttpResponse(b"{}", content_type="application/json")


urlpatterns = [
    path("bench/floor/", floor),
    path("", include("config.urls")),
]
