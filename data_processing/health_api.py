"""GET /api/v1/health/: is the job pipeline able to run? 200 when every check passes, else 503.

Open to anyone (load balancers and container healthchecks carry no token), which is why the
body says only ok / latency / worker count and never a hostname, URL or version.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from .health import health_report

_EXAMPLE = {
    "status": "ok",
    "checks": {
        "database": {"ok": True, "latency_ms": 0.4},
        "redis": {"ok": True, "latency_ms": 0.2},
        "broker": {"ok": True, "latency_ms": 1.1},
        "workers": {"ok": True, "latency_ms": 1002.5, "count": 2},
    },
}


class HealthApi(APIView):
    authentication_classes = []
    permission_classes = []

    @extend_schema(
        summary="Health of the database, Redis, the broker and the Celery workers",
        description=(
            "Each check is bounded (about 1 s; the whole answer within about 2 s). A failed check "
            'has `"ok": false` and `"error": "unavailable" | "timeout" | "no workers"`. The worker '
            "count is cached for 5 s."
        ),
        responses={
            200: OpenApiResponse(
                description="Every check passed.", examples=[OpenApiExample("ok", _EXAMPLE)]
            ),
            503: OpenApiResponse(description='At least one check failed; `"status": "degraded"`.'),
        },
    )
    def get(self, request: Request) -> Response:
        report = health_report()
        return Response(
            report.as_dict(), status=200 if report.ok else 503, headers={"Cache-Control": "no-store"}
        )
