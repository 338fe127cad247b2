"""Page-number pagination for the API's own lists (the caller's jobs, a saved search's runs).

DRF's ``PageNumberPagination`` forgives a malformed page size (``page_size=abc`` or ``500``
quietly becomes the default or the maximum) and answers 404 for a page that is not a number.
Every other query parameter of the API is checked and refused with a 400 in the one error
shape, so these two are as well; a page past the last one stays DRF's 404.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import QuerySet
from rest_framework import serializers
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.views import APIView

from contracts.serializers import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, QueryStringSerializer


class _PageQuerySerializer(QueryStringSerializer):
    # "last" is DRF's name for the last page.
    page = serializers.RegexField(
        r"^\s*(?:last|0*[1-9]\d*)\s*$",
        required=False,
        error_messages={"invalid": 'A page number (1 or more), or "last".'},
    )
    page_size = serializers.IntegerField(min_value=1, max_value=MAX_PAGE_SIZE, required=False)


class ListPagination(PageNumberPagination):
    page_size = DEFAULT_PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE

    def paginate_queryset(
        self, queryset: QuerySet, request: Request, view: APIView | None = None
    ) -> Sequence[Any]:
        _PageQuerySerializer(data=request.query_params).is_valid(raise_exception=True)
        return super().paginate_queryset(queryset, request, view)

    def get_schema_operation_parameters(self, view: APIView) -> list[dict[str, Any]]:
        """DRF's two parameters, with the bounds the page query enforces."""
        bounds = {
            self.page_query_param: {"minimum": 1, "default": 1},
            self.page_size_query_param: {
                "minimum": 1,
                "maximum": self.max_page_size,
                "default": self.page_size,
            },
        }
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"] = {**parameter["schema"], **bounds.get(parameter["name"], {})}
        return parameters
