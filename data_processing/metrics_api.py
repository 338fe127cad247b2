"""``/metrics``: the Prometheus exposition, for a scraper holding METRICS_TOKEN.

A plain Django view rather than a DRF one: the API's token authentication would read the
scraper's bearer token as a user's token. Without METRICS_TOKEN the endpoint does not exist.
"""

from __future__ import annotations

import hmac

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from prometheus_client import CONTENT_TYPE_LATEST

from config.errors import error_body

from .metrics import metrics_exposition


def metrics_view(request: HttpRequest) -> HttpResponse:
    token = settings.METRICS_TOKEN
    if not token:
        return JsonResponse(error_body("not_found", "Metrics are disabled: set METRICS_TOKEN."), status=404)
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.encode(), token.encode()):
        response = JsonResponse(
            error_body("not_authenticated", "Send the metrics token as 'Authorization: Bearer <token>'."),
            status=401,
        )
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(metrics_exposition(), content_type=CONTENT_TYPE_LATEST)
