"""The job API: submit, list, cancel, download, and the kinds (README.md, "API walk-through").

Views are thin: validate the query, call one service or selector, shape the response. The
polls, status/ and result/, are the hot path and live in poll_apis.py.
"""

from __future__ import annotations

from typing import Any

from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.errors import ApplicationError, ErrorResponseSerializer
from config.shared_thread_views import on_shared_threads
from config.throttling import JobSubmitThrottle
from contracts.openapi import NOT_ONLY_WHITESPACE

from . import selectors, services
from .exceptions import ExportFileGone, ExportNotReady, NoFileToDownload
from .exports import export_directory
from .models import JobState
from .pagination import ListPagination
from .registry import JobKindSpec
from .serializers import (
    JobKindSerializer,
    JobListQuerySerializer,
    JobStatusSerializer,
    SubmitCachedSerializer,
    SubmitQueuedSerializer,
)
from .services import Submission

MAX_IDEMPOTENCY_KEY_LENGTH = 200


def submission_response(submission: Submission) -> Response:
    """200 with the data when it came from cache; otherwise 202 pointing at the job."""
    job = submission.job
    status = selectors.job_status(job)
    if submission.is_cached:
        body = {
            "status": "cached",
            "task_id": status["task_id"],
            "cache_key": job.cache_key,
            "data": submission.cached_data,
        }
        return Response(body, status=200)
    body = {
        "status": "queued",
        "state": job.state,
        "task_id": status["task_id"],
        "cache_key": job.cache_key,
        "message": job.message,
        "deduplicated": submission.deduplicated,
        "status_url": status["status_url"],
        "result_url": status["result_url"],
    }
    retry_after = max(1, min(status["eta_seconds"] or 1, 30))
    return Response(
        body, status=202, headers={"Location": status["status_url"], "Retry-After": str(retry_after)}
    )


def idempotency_key_from(request: Request) -> str | None:
    key = request.headers.get("Idempotency-Key")
    if key is not None and not (0 < len(key) <= MAX_IDEMPOTENCY_KEY_LENGTH):
        raise ApplicationError(
            "Invalid Idempotency-Key header.",
            errors={"Idempotency-Key": [f"Must be 1 to {MAX_IDEMPOTENCY_KEY_LENGTH} characters."]},
        )
    return key


_SUBMIT_RESPONSES = {
    200: OpenApiResponse(SubmitCachedSerializer, description="The result was cached: here it is."),
    202: OpenApiResponse(SubmitQueuedSerializer, description="Queued (or joined an identical queued job)."),
    400: OpenApiResponse(
        ErrorResponseSerializer, description="Invalid input; `errors` names each bad field."
    ),
    409: OpenApiResponse(
        ErrorResponseSerializer,
        description="Your stored export files are at their limit (`export_storage_full`).",
    ),
    422: OpenApiResponse(
        ErrorResponseSerializer, description="The Idempotency-Key was used with another request."
    ),
    429: OpenApiResponse(
        ErrorResponseSerializer, description="Too many submissions or active jobs; see Retry-After."
    ),
    503: OpenApiResponse(
        ErrorResponseSerializer, description="Redis is unreachable (`service_unavailable`); see Retry-After."
    ),
}


class JobSubmitApi(APIView):
    """Submit a job of ``kind``; ``submit_view`` makes one subclass per kind, for its schema."""

    kind: str
    throttle_classes = [JobSubmitThrottle]

    @classmethod
    def as_view(cls, **initkwargs: Any) -> Any:
        return on_shared_threads(super().as_view(**initkwargs))

    def post(self, request: Request) -> Response:
        submission = services.job_submit(
            owner=request.user,
            kind=self.kind,
            payload=request.data,
            idempotency_key=idempotency_key_from(request),
        )
        return submission_response(submission)


def submit_view(spec: JobKindSpec, *, alias: bool = False) -> type[JobSubmitApi]:
    """The submit view of one kind, documented with that kind's request serializer.

    A class per kind (not one view with a path parameter) gives each kind its own OpenAPI
    operation; ``alias`` marks an old URL that still works as deprecated.
    """
    name = "".join(part.title() for part in spec.name.split("_")) + (
        "AliasSubmitApi" if alias else "SubmitApi"
    )
    view = type(name, (JobSubmitApi,), {"kind": spec.name, "__doc__": spec.summary})
    return extend_schema(
        request=spec.request_serializer,
        responses=_SUBMIT_RESPONSES,
        summary=spec.summary,
        description=f"Old URL of `tasks/{spec.slug}/`." if alias else "",
        deprecated=alias,
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": MAX_IDEMPOTENCY_KEY_LENGTH,
                    "pattern": NOT_ONLY_WHITESPACE,
                },
                OpenApiParameter.HEADER,
                required=False,
            )
        ],
    )(view)


class JobKindsApi(APIView):
    @extend_schema(responses=JobKindSerializer(many=True), summary="The job kinds and their submit URLs")
    def get(self, request: Request) -> Response:
        return Response(selectors.job_kinds_catalogue())


class JobListApi(APIView):
    # Declared on the view so the schema documents the paginated envelope it answers with.
    pagination_class = ListPagination

    @extend_schema(
        parameters=[JobListQuerySerializer],
        responses={
            200: JobStatusSerializer(many=True),
            404: OpenApiResponse(description="A page past the last one."),
        },
        summary="The caller's jobs, newest first",
    )
    def get(self, request: Request) -> Response:
        query = JobListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        jobs = selectors.job_list_for_owner(owner=request.user, **query.validated_data)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(jobs, request, view=self)
        return paginator.get_paginated_response([selectors.job_status(job) for job in page])


# A task_id that is not a UUID does not reach these views: ``tasks/<kind>/`` is that kind's
# submit endpoint, which answers GET and DELETE with a 405 (and ``Allow: POST``).
_A_SUBMIT_URL = OpenApiResponse(
    ErrorResponseSerializer,
    description="The path names a kind's submit endpoint (`tasks/search/`), not a job: POST only.",
)


class JobDetailApi(APIView):
    @extend_schema(responses={200: JobStatusSerializer, 405: _A_SUBMIT_URL}, summary="A job's status")
    def get(self, request: Request, task_id: str) -> Response:
        return Response(selectors.job_status(selectors.job_get_for_owner(owner=request.user, job_id=task_id)))

    @extend_schema(
        responses={
            200: JobStatusSerializer,
            404: OpenApiResponse(ErrorResponseSerializer, description="Unknown job."),
            405: _A_SUBMIT_URL,
            409: OpenApiResponse(
                ErrorResponseSerializer, description="The job already finished (`job_finished`)."
            ),
        },
        summary="Cancel a queued or running job",
    )
    def delete(self, request: Request, task_id: str) -> Response:
        job = selectors.job_get_for_owner(owner=request.user, job_id=task_id)
        return Response(selectors.job_status(services.job_cancel(job=job)))


class JobDownloadApi(APIView):
    @extend_schema(
        responses={
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="The CSV file."),
            404: OpenApiResponse(
                ErrorResponseSerializer, description="Unknown job, or a job that writes no file."
            ),
            409: OpenApiResponse(
                ErrorResponseSerializer, description="The export is not finished (`export_not_ready`)."
            ),
            410: OpenApiResponse(
                ErrorResponseSerializer, description="The file expired (`export_expired`); export again."
            ),
        },
        summary="Download an export's CSV (its owner only)",
    )
    def get(self, request: Request, task_id: str) -> FileResponse:
        job = selectors.job_get_for_owner(owner=request.user, job_id=task_id)
        if not selectors.job_writes_file(job):
            raise NoFileToDownload("This job has no file to download.")
        if job.state != JobState.SUCCESS:
            raise ExportNotReady("The export is not finished yet.", extra={"state": job.state})
        path = export_directory() / f"{job.id}.csv"
        if not job.result_file or not path.is_file():
            raise ExportFileGone("The export file expired; submit the export again.")
        return FileResponse(
            path.open("rb"),
            as_attachment=True,
            filename=f"philgeps-export-{job.id}.csv",
            content_type="text/csv",
        )
