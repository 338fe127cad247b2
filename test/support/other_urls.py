"""Another URLconf, where ``outer/deeper/`` is a different view: for the resolver-memo tests."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.urls import path


def elsewhere(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"view": "elsewhere", "route": request.resolver_match.route})


urlpatterns = [path("outer/deeper/", elsewhere)]
