"""The synchronous chip endpoints: validate → call one selector → respond.

The async job API (data_processing) calls the same selectors with the same serializers'
validated data; these views know nothing about jobs.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.errors import ErrorResponseSerializer
from config.throttling import ChipThrottle
from config.validation import validated_data

from .responses import (
    ContractAggregatesResponseSerializer,
    ContractSearchResponseSerializer,
    EntityTableResponseSerializer,
    FilterOptionsResponseSerializer,
)
from .selectors import contract_aggregates, contract_search, entity_table, filter_options
from .serializers import (
    ChipAggregatesRequestSerializer,
    ChipSearchRequestSerializer,
    EntityTableRequestSerializer,
    FilterOptionsQuerySerializer,
)
from .version_headers import VERSION_HEADERS, versioned_response

_ERRORS = {400: ErrorResponseSerializer, 401: ErrorResponseSerializer}

_FILTERS_EXAMPLE = {
    "contractors": ["ABC Corp"],
    "areas": [],
    "organizations": [],
    "business_categories": ["Construction Projects"],
    "keywords": ["road"],
    "time_ranges": ["2023", {"type": "quarterly", "year": 2024, "quarter": 2}],
    "value_range": {"min": "100000.00", "max": None},
    "page": 1,
    "page_size": 20,
}


class ChipSearchApi(APIView):
    throttle_classes = [ChipThrottle]

    @extend_schema(
        operation_id="contracts_chip_search",
        parameters=VERSION_HEADERS,
        summary="One page of the contracts the chips select",
        request=ChipSearchRequestSerializer,
        responses={200: ContractSearchResponseSerializer, **_ERRORS},
        examples=[
            OpenApiExample(
                "Road works by ABC Corp",
                value={"filters": _FILTERS_EXAMPLE, "ordering": "-amount"},
                request_only=True,
            )
        ],
    )
    def post(self, request: Request) -> Response:
        return self.respond(request.data)

    def respond(self, data: Any) -> Response:
        """Answer a request body; data_processing's async_mode switch calls this too."""
        params = validated_data(ChipSearchRequestSerializer, data)
        return versioned_response(lambda: contract_search(**params))


class ChipAggregatesApi(APIView):
    throttle_classes = [ChipThrottle]

    @extend_schema(
        operation_id="contracts_chip_aggregates",
        parameters=VERSION_HEADERS,
        summary="Summary, totals by year and month, and top entities of the selected contracts",
        request=ChipAggregatesRequestSerializer,
        responses={200: ContractAggregatesResponseSerializer, **_ERRORS},
        examples=[
            OpenApiExample(
                "Top 5 of 2023", value={"filters": {"time_ranges": ["2023"]}, "top_n": 5}, request_only=True
            )
        ],
    )
    def post(self, request: Request) -> Response:
        return self.respond(request.data)

    def respond(self, data: Any) -> Response:
        """Answer a request body; data_processing's async_mode switch calls this too."""
        params = validated_data(ChipAggregatesRequestSerializer, data)
        return versioned_response(lambda: contract_aggregates(**params))


class ChipAggregatesPaginatedApi(APIView):
    throttle_classes = [ChipThrottle]

    @extend_schema(
        operation_id="contracts_chip_aggregates_paginated",
        parameters=VERSION_HEADERS,
        summary="One row per entity (contractor, area, organization or category) with its totals",
        request=EntityTableRequestSerializer,
        responses={200: EntityTableResponseSerializer, **_ERRORS},
        examples=[
            OpenApiExample(
                "Contractors by total value",
                value={
                    "filters": {"areas": ["Metro Manila"]},
                    "entity_type": "contractor",
                    "page": 1,
                    "page_size": 20,
                    "ordering": "-total_amount",
                },
                request_only=True,
            )
        ],
    )
    def post(self, request: Request) -> Response:
        return self.respond(request.data)

    def respond(self, data: Any) -> Response:
        """Answer a request body; data_processing's async_mode switch calls this too."""
        params = validated_data(EntityTableRequestSerializer, data)
        return versioned_response(lambda: entity_table(**params))


class FilterOptionsApi(APIView):
    @extend_schema(
        operation_id="contracts_filter_options",
        summary="Chip autocomplete: names containing q, those starting with it first",
        parameters=[FilterOptionsQuerySerializer],
        responses={200: FilterOptionsResponseSerializer, **_ERRORS},
    )
    def get(self, request: Request) -> Response:
        serializer = FilterOptionsQuerySerializer(data=request.query_params.dict())
        serializer.is_valid(raise_exception=True)
        return Response(filter_options(**serializer.validated_data))
