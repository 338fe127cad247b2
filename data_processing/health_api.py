"""GET /api/v1/health/: is the job pipeline able to run? 200 when every check passes, else 503.

Open to anyone (load balancers and container healthchecks carry no token) and cheap: one
report is measured at most every ``HEALTH_CACHE_SECONDS`` whoever asks. Anyone sees whether
each check passed; staff (by token or session) also see latencies and the worker count.
No body ever holds a hostname, URL or version.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from .health import health_report


class HealthCheckSerializer(serializers.Serializer):
    """Schema only: one check's outcome."""

    ok = serializers.BooleanField()
    latency_ms = serializers.FloatField(required=False)
    count = serializers.IntegerField(required=False, help_text="Workers that answered (workers only).")
    # A plain string: a ChoiceField here would publish a generic "ErrorEnum" schema component.
    error = serializers.CharField(required=False, help_text='"unavailable", "timeout" or "no workers".')


class HealthSerializer(serializers.Serializer):
    """Schema only: the health document."""

    status = serializers.ChoiceField(choices=["ok", "degraded"])
    checks = serializers.DictField(child=HealthCheckSerializer())


_HEALTHY = {
    "status": "ok",
    "checks": {
        "database": {"ok": True, "latency_ms": 0.4},
        "redis": {"ok": True, "latency_ms": 0.2},
        "broker": {"ok": True, "latency_ms": 1.1},
        "workers": {"ok": True, "latency_ms": 1002.5, "count": 2},
    },
}
_DEGRADED = {
    "status": "degraded",
    "checks": {
        "database": {"ok": True, "latency_ms": 0.4},
        "redis": {"ok": True, "latency_ms": 0.2},
        "broker": {"ok": True, "latency_ms": 1.1},
        "workers": {"ok": False, "latency_ms": 1001.7, "count": 0, "error": "no workers"},
    },
}


class HealthApi(APIView):
    # Authentication runs (so staff get the details) but nobody is required to pass it.
    permission_classes = [AllowAny]

    @extend_schema(
        summary="Health of the database, Redis, the broker and the Celery workers",
        description=(
            "Public. Each check is bounded (about 1 s; the whole answer comes within about 2 s), "
            "and one answer is reused for HEALTH_CACHE_SECONDS, so frequent polls cost nothing. "
            "Latencies and the worker count are shown to staff only."
        ),
        responses={
            200: OpenApiResponse(
                HealthSerializer, description="Every check passed.", examples=[OpenApiExample("ok", _HEALTHY)]
            ),
            503: OpenApiResponse(
                HealthSerializer,
                description="At least one check failed (zero live workers counts as failed).",
                examples=[OpenApiExample("degraded", _DEGRADED, status_codes=["503"])],
            ),
        },
    )
    def get(self, request: Request) -> Response:
        report = health_report()
        staff = bool(request.user and request.user.is_staff)
        return Response(
            report.as_dict(detailed=staff),
            status=200 if report.ok else 503,
            headers={"Cache-Control": "no-store"},
        )
