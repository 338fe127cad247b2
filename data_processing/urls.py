"""Routes of the job API; the submit routes come from the job-kind registry.

Each kind answers at ``tasks/<slug>/`` and at each of its old slugs (``slug_aliases``).
The fixed routes come first, so no kind's slug can shadow them.
"""

from django.urls import URLPattern, path

from . import apis, poll_apis
from .registry import job_kinds


def _submit_routes() -> list[URLPattern]:
    routes = []
    for spec in job_kinds():
        routes.append(
            path(f"tasks/{spec.slug}/", apis.submit_view(spec).as_view(), name=f"job-submit-{spec.slug}")
        )
        routes.extend(
            path(f"tasks/{alias}/", apis.submit_view(spec, alias=True).as_view(), name=f"job-submit-{alias}")
            for alias in spec.slug_aliases
        )
    return routes


urlpatterns = [
    path("kinds/", apis.JobKindsApi.as_view(), name="job-kinds"),
    path("tasks/status/", poll_apis.JobStatusApi.as_view(), name="job-status"),
    path("tasks/result/", poll_apis.JobResultApi.as_view(), name="job-result"),
    path("tasks/", apis.JobListApi.as_view(), name="job-list"),
    path("tasks/<uuid:task_id>/", apis.JobDetailApi.as_view(), name="job-detail"),
    path("tasks/<uuid:task_id>/download/", apis.JobDownloadApi.as_view(), name="job-download"),
    *_submit_routes(),
]
