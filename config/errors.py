"""The one error contract of the API: domain errors and the DRF handler that renders them.

Every error response, whatever raised it, has the body
``{"status": "error", "code": str, "message": str, "errors": {dotted.field: [str]}}``.
A result that is not there to give (not ready, failed, cancelled, expired) is answered by
raising its named exception too; its ``status`` says which (``"not_ready"``, ``"failed"``…)
and ``extra`` adds what a client needs (the job's ``state``, ``progress``, ``task_id``).
Views never build these bodies: they raise, and ``api_exception_handler`` renders.
"""

from __future__ import annotations

import logging
from typing import Any

import redis
from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from rest_framework import exceptions as drf_exceptions
from rest_framework import serializers
from rest_framework.response import Response

logger = logging.getLogger(__name__)


class ApplicationError(Exception):
    """Base of every domain error; subclasses set the HTTP status and a stable code."""

    status_code = 400
    code = "application_error"
    # The body's "status": "error" unless the subclass names a more precise outcome.
    status = "error"

    def __init__(
        self,
        message: str,
        *,
        errors: dict[str, list[str]] | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors or {}
        self.headers = headers or {}
        self.extra = extra or {}


class RequestBodyTooLarge(drf_exceptions.APIException):
    status_code = 413
    default_code = "request_too_large"
    default_detail = "The request body is too large."

    @classmethod
    def for_limit(cls, limit: int) -> RequestBodyTooLarge:
        return cls(f"The request body is larger than the limit of {limit} bytes.")


def error_body(
    code: str, message: str, errors: dict[str, list[str]] | None = None, *, status: str = "error"
) -> dict[str, Any]:
    return {"status": status, "code": code, "message": message, "errors": errors or {}}


class ErrorResponseSerializer(serializers.Serializer):
    """The error body, for the OpenAPI schema."""

    status = serializers.CharField(help_text='"error", or the outcome a named exception reports.')
    code = serializers.CharField(help_text="Stable, machine-readable.")
    message = serializers.CharField(help_text="For people.")
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Problems per dotted field name (`filters.page_size`); empty when none.",
    )


def flatten_errors(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """Turn DRF's nested error detail into ``{"filters.time_ranges.0.start": [...]}``."""
    flat: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            if key == "non_field_errors" and prefix:
                path = prefix
            flat.update(flatten_errors(value, path))
    elif isinstance(detail, list) and any(isinstance(item, (dict, list)) for item in detail):
        for index, value in enumerate(detail):
            if value:
                flat.update(flatten_errors(value, f"{prefix}.{index}" if prefix else str(index)))
    else:
        items = detail if isinstance(detail, list) else [detail]
        flat.setdefault(prefix or "non_field_errors", []).extend(str(item) for item in items)
    return flat


class QueryTimeout(ApplicationError):
    status_code = 422
    code = "query_timeout"


class ServiceUnavailable(ApplicationError):
    """Redis or PostgreSQL could not be reached: a fault the client can wait out, not a bug of ours."""

    status_code = 503
    code = "service_unavailable"
    RETRY_AFTER_SECONDS = 5


def is_statement_timeout(exc: Exception) -> bool:
    import psycopg
    from django.db import OperationalError

    return isinstance(exc, OperationalError) and isinstance(exc.__cause__, psycopg.errors.QueryCanceled)


# SQLSTATEs of a connection lost or refused by the server (class 08), or of a server shutting
# down or starting up (57P01-57P03): the database, not the query, is the problem.
_UNREACHABLE_SQLSTATES = ("08", "57P01", "57P02", "57P03")


def _unreachable_service(exc: Exception) -> str | None:
    """The name of the service that is down, restarting or out of pooled connections (a
    fault the client can wait out); None for anything else, a failed query included."""
    import psycopg
    from django.db import InterfaceError, OperationalError

    if isinstance(exc, (redis.ConnectionError, redis.TimeoutError)):
        return "Redis"
    cause = exc.__cause__
    # SQLite's errors, say, are no outage.
    if not isinstance(exc, (OperationalError, InterfaceError)) or not isinstance(cause, psycopg.Error):
        return None
    # No SQLSTATE: the client's side failed (refused, closed, the pool's wait timed out).
    if cause.sqlstate is None or cause.sqlstate.startswith(_UNREACHABLE_SQLSTATES):
        return "PostgreSQL"
    return None


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    response = _rendered(exc, context)
    if response.status_code >= 400:
        count_error(response.data["code"])
    return response


def count_error(code: str) -> None:
    """Count an error answer for /metrics (``philgeps_api_errors_total``)."""
    # Imported here: the metrics module reads the job models, which load after this module.
    from data_processing.metrics import api_error

    api_error(code)


def _rendered(exc: Exception, context: dict[str, Any]) -> Response:
    # Imported here: rest_framework.views reads the parser setting, whose parser imports this module.
    from rest_framework.views import exception_handler as drf_exception_handler

    if is_statement_timeout(exc):
        exc = QueryTimeout(
            f"The query ran longer than the {settings.DATABASE_STATEMENT_TIMEOUT:g} s a request may take; "
            'narrow the chips, or send "async_mode": true to run it as a job.'
        )
    if unreachable := _unreachable_service(exc):
        view = context.get("view")
        where = view.__class__.__name__ if view else "a view"
        logger.warning("%s unreachable in %s: %s", unreachable, where, exc)
        exc = ServiceUnavailable(
            "A service this request needs is unreachable; try again shortly.",
            headers={"Retry-After": str(ServiceUnavailable.RETRY_AFTER_SECONDS)},
        )
    if isinstance(exc, ApplicationError):
        body = error_body(exc.code, exc.message, exc.errors, status=exc.status) | exc.extra
        return Response(body, status=exc.status_code, headers=exc.headers)
    if isinstance(exc, RequestDataTooBig):
        exc = RequestBodyTooLarge.for_limit(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
    elif isinstance(exc, SuspiciousOperation):
        # Too many fields or files, a malformed multipart body: the client's fault, said plainly.
        exc = drf_exceptions.ParseError("The request could not be read.")
    elif isinstance(exc, Http404):
        exc = drf_exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = drf_exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        # Not an API error: a bug or a fault. Log it with its traceback, say nothing inside.
        logger.exception("Unhandled error in %s", context.get("view").__class__.__name__)
        return Response(error_body("server_error", "Internal server error."), status=500)

    if isinstance(exc, drf_exceptions.ValidationError):
        response.data = error_body("invalid_input", "Invalid input.", flatten_errors(exc.detail))
    else:
        detail = exc.detail if isinstance(exc, drf_exceptions.APIException) else str(exc)
        code = getattr(exc, "default_code", "error")
        if isinstance(detail, drf_exceptions.ErrorDetail):
            code = detail.code or code
        response.data = error_body(code, str(detail))
    return response


# --- Django's own error views, for what fails outside a DRF view ------------------------------
# A response that fails to render, a URL under /api/ that matches nothing, a body Django
# itself refuses: API clients get the one error shape, never an HTML page. Other paths
# (dashboard, admin) keep Django's pages.


def is_api_request(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def api_not_found() -> JsonResponse:
    return _api_error("not_found", "Not found.", 404)


def _api_error(code: str, message: str, status: int) -> JsonResponse:
    count_error(code)
    return JsonResponse(error_body(code, message), status=status)


def server_error(request: HttpRequest) -> HttpResponse:
    if is_api_request(request):
        return _api_error("server_error", "Internal server error.", 500)
    return defaults.server_error(request)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api_request(request):
        if isinstance(exception, RequestDataTooBig):
            return _body_too_large()
        return _api_error("bad_request", "The request could not be read.", 400)
    return defaults.bad_request(request, exception)


def body_over_limit(path: str) -> HttpResponse:
    """The answer to a body the server stopped reading at the limit, before any request or
    view existed; the connection is closed after it, since the rest of the body is unread."""
    if path.startswith("/api/"):
        response = _body_too_large()
    else:
        response = HttpResponse(RequestBodyTooLarge.default_detail, status=413, content_type="text/plain")
    response["Connection"] = "close"
    return response


def _body_too_large() -> JsonResponse:
    too_large = RequestBodyTooLarge.for_limit(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
    return _api_error(too_large.default_code, str(too_large.detail), 413)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api_request(request):
        return api_not_found()
    return defaults.page_not_found(request, exception)
