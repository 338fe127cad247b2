from django.urls import path

from . import apis

urlpatterns = [
    path("tasks/search/", apis.SearchSubmitApi.as_view(), name="job-submit-search"),
    path("tasks/analytics/", apis.AnalyticsSubmitApi.as_view(), name="job-submit-analytics"),
    path(
        "tasks/analytics-paginated/",
        apis.AnalyticsTableSubmitApi.as_view(),
        name="job-submit-analytics-table",
    ),
    path("tasks/export/", apis.ExportSubmitApi.as_view(), name="job-submit-export"),
    path("tasks/status/", apis.JobStatusApi.as_view(), name="job-status"),
    path("tasks/result/", apis.JobResultApi.as_view(), name="job-result"),
    path("tasks/", apis.JobListApi.as_view(), name="job-list"),
    path("tasks/<uuid:task_id>/", apis.JobDetailApi.as_view(), name="job-detail"),
    path("tasks/<uuid:task_id>/download/", apis.JobDownloadApi.as_view(), name="job-download"),
]
