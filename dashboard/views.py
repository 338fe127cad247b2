"""The dashboard page: one template; everything else is the API, called from the browser.

The page talks to the API with the session cookie, so it needs the CSRF cookie for its
POST and DELETE requests even though it renders no Django form.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.mixins import LoginRequiredMixin
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.generic import TemplateView

from contracts.serializers import MAX_KEYWORD_LENGTH, MAX_NAME_LENGTH, MAX_OPTIONS_QUERY_LENGTH
from data_processing.selectors import job_kinds_catalogue


@method_decorator(ensure_csrf_cookie, name="dispatch")
class DashboardView(LoginRequiredMixin, TemplateView):
    template_name = "dashboard/index.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        # The job kinds' labels and submit URLs, from the registry (read by js/jobs.js), and
        # the chip inputs' lengths, from the API's own limits.
        return {
            **super().get_context_data(**kwargs),
            "job_kinds": job_kinds_catalogue(),
            "name_max_length": MAX_NAME_LENGTH,
            "keyword_max_length": MAX_KEYWORD_LENGTH,
            "query_max_length": MAX_OPTIONS_QUERY_LENGTH,
        }
