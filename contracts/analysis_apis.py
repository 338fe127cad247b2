"""The synchronous red-flag and drill-down endpoints: validate → call one selector → respond.

Each view is a declaration (request serializer, selector, schema); ``SelectorApi`` does the
rest. data_processing's async_mode switch overrides ``respond`` as for the other chip views.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from django.http import StreamingHttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.errors import ErrorResponseSerializer
from config.validation import validated_data

from .analysis_responses import (
    BenfordResponseSerializer,
    ExportEstimateResponseSerializer,
    RelatedContractsResponseSerializer,
    RelatedEntitiesResponseSerializer,
    RoundingResponseSerializer,
    TimeRangesResponseSerializer,
    TreemapResponseSerializer,
    ValueDistributionResponseSerializer,
)
from .analysis_serializers import (
    DigitsRequestSerializer,
    EntityExportRequestSerializer,
    ExportEstimateRequestSerializer,
    RelatedContractsRequestSerializer,
    RelatedEntitiesRequestSerializer,
    TreemapRequestSerializer,
    ValueDistributionRequestSerializer,
)
from .selectors.drilldown import related_contracts, related_entities
from .selectors.red_flags import benford, rounding, value_distribution
from .selectors.table_export import entity_export_lines, export_estimate
from .selectors.time_ranges import available_time_ranges
from .selectors.treemap import value_treemap
from .version_headers import VERSION_HEADERS, versioned_response

_ERRORS = {400: ErrorResponseSerializer, 401: ErrorResponseSerializer}
_FILTERS = {"business_categories": ["Construction Projects"], "time_ranges": ["2023"]}


def _schema(operation_id: str, summary: str, request: Any, response: Any, example: dict) -> Any:
    return extend_schema_view(
        post=extend_schema(
            operation_id=operation_id,
            summary=summary,
            request=request,
            parameters=VERSION_HEADERS,
            responses={200: response, **_ERRORS},
            examples=[OpenApiExample("Example", value=example, request_only=True)],
        )
    )


class SelectorApi(APIView):
    """POST a JSON body, validated by ``request_serializer``, answered by ``selector``."""

    parser_classes = [JSONParser]
    request_serializer: ClassVar[type[serializers.Serializer]]
    selector: ClassVar[Callable[..., Any]]

    def post(self, request: Request) -> Response:
        return self.respond(request.data)

    def validated(self, data: Any) -> dict[str, Any]:
        return validated_data(self.request_serializer, data)

    def respond(self, data: Any) -> Response:
        """Answer a request body; data_processing's async_mode switch calls this too."""
        params = self.validated(data)
        return versioned_response(lambda: type(self).selector(**params))


@_schema(
    "contracts_value_distribution",
    "Histogram of contract amounts with round and configured thresholds marked",
    ValueDistributionRequestSerializer,
    ValueDistributionResponseSerializer,
    {"filters": _FILTERS, "bins": 100, "scale": "log", "band_percent": "2"},
)
class ValueDistributionApi(SelectorApi):
    request_serializer = ValueDistributionRequestSerializer
    selector = staticmethod(value_distribution)


@_schema(
    "contracts_benford",
    "First and first-two digits of the amounts against Benford's law",
    DigitsRequestSerializer,
    BenfordResponseSerializer,
    {"filters": _FILTERS},
)
class BenfordApi(SelectorApi):
    request_serializer = DigitsRequestSerializer
    selector = staticmethod(benford)


@_schema(
    "contracts_rounding",
    "How many amounts are round (10 M … 1 k), their trailing zeros and last digits",
    DigitsRequestSerializer,
    RoundingResponseSerializer,
    {"filters": _FILTERS},
)
class RoundingApi(SelectorApi):
    request_serializer = DigitsRequestSerializer
    selector = staticmethod(rounding)


@_schema(
    "contracts_related_entities",
    "One entity's top related entities on another dimension (drill-down)",
    RelatedEntitiesRequestSerializer,
    RelatedEntitiesResponseSerializer,
    {"filters": {}, "dimension": "contractor", "name": "ABC Corp", "target": "organization", "top_n": 10},
)
class RelatedEntitiesApi(SelectorApi):
    request_serializer = RelatedEntitiesRequestSerializer
    selector = staticmethod(related_entities)


@_schema(
    "contracts_related_contracts",
    "The contracts of one entity pair, one page at a time (drill-down)",
    RelatedContractsRequestSerializer,
    RelatedContractsResponseSerializer,
    {
        "filters": {},
        "dimension": "contractor",
        "name": "ABC Corp",
        "target": "organization",
        "target_name": "DPWH",
        "page": 1,
        "page_size": 20,
    },
)
class RelatedContractsApi(SelectorApi):
    request_serializer = RelatedContractsRequestSerializer
    selector = staticmethod(related_contracts)


@_schema(
    "contracts_value_treemap",
    "Value by business category and, inside each, by contractor (the treemap)",
    TreemapRequestSerializer,
    TreemapResponseSerializer,
    {"filters": _FILTERS, "categories": 12, "contractors": 8},
)
class TreemapApi(SelectorApi):
    request_serializer = TreemapRequestSerializer
    selector = staticmethod(value_treemap)


@_schema(
    "contracts_export_estimate",
    "Rows and approximate size of a contract or entity-table export, before starting it",
    ExportEstimateRequestSerializer,
    ExportEstimateResponseSerializer,
    {"filters": _FILTERS, "target": "entity_table", "entity_type": "contractor"},
)
class ExportEstimateApi(SelectorApi):
    request_serializer = ExportEstimateRequestSerializer
    selector = staticmethod(export_estimate)


class EntityTableExportApi(SelectorApi):
    request_serializer = EntityExportRequestSerializer

    @extend_schema(
        operation_id="contracts_entity_table_export",
        summary="Every row of the entity table as CSV, streamed",
        request=EntityExportRequestSerializer,
        responses={
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="The CSV, one row per entity."),
            **_ERRORS,
        },
        examples=[
            OpenApiExample(
                "Contractors of 2023",
                value={"filters": _FILTERS, "entity_type": "contractor", "ordering": "-total_amount"},
                request_only=True,
            )
        ],
    )
    def post(self, request: Request) -> Any:
        return self.respond(request.data)

    def respond(self, data: Any) -> Any:
        params = self.validated(data)
        response = StreamingHttpResponse(entity_export_lines(**params), content_type="text/csv")
        filename = f"philgeps-{params['entity_type']}-table-{timezone.localdate():%Y%m%d}.csv"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


class TimeRangesApi(APIView):
    @extend_schema(
        operation_id="contracts_time_ranges",
        summary="The years and quarters that have contracts (for the time pickers)",
        responses={200: TimeRangesResponseSerializer, 401: ErrorResponseSerializer},
    )
    def get(self, request: Request) -> Response:
        return Response(available_time_ranges())
