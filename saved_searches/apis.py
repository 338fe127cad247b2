"""``/api/v1/saved-searches/``: a user's saved job requests, their runs and what was new.

Views are thin: validate, call one service or selector, shape the response. Every look-up
is scoped to the caller: another user's saved search answers 404 like an unknown one.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.errors import ErrorResponseSerializer
from contracts.responses import ContractSearchResponseSerializer
from data_processing.apis import JobSubmitThrottle
from data_processing.pagination import ListPagination
from data_processing.registry import job_kind

from . import selectors, services
from .models import RunTrigger
from .serializers import (
    NewContractsQuerySerializer,
    RunSerializer,
    SavedSearchSerializer,
    SavedSearchWriteSerializer,
)
from .tasks import run_saved_search_task

_NOT_FOUND = OpenApiResponse(description="No saved search of yours has this id.")


class SavedSearchListApi(APIView):
    @extend_schema(
        responses=inline_serializer(
            "SavedSearchList",
            {"count": serializers.IntegerField(), "results": SavedSearchSerializer(many=True)},
        ),
        summary="Your saved searches",
        operation_id="saved_searches_list",
    )
    def get(self, request: Request) -> Response:
        searches = list(selectors.saved_search_list_for_owner(owner=request.user))
        return Response({"count": len(searches), "results": selectors.saved_searches_detail(searches)})

    @extend_schema(
        request=SavedSearchWriteSerializer,
        responses={
            201: SavedSearchSerializer,
            400: OpenApiResponse(description="Invalid input; `errors` names each bad field."),
            409: OpenApiResponse(
                description="The name is taken, or you have the most saved searches allowed."
            ),
        },
        summary="Save a job request under a name, with a schedule",
    )
    def post(self, request: Request) -> Response:
        body = SavedSearchWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        saved_search = services.saved_search_create(owner=request.user, **body.validated_data)
        return Response(selectors.saved_search_detail(saved_search, None), status=201)


class SavedSearchDetailApi(APIView):
    @extend_schema(responses={200: SavedSearchSerializer, 404: _NOT_FOUND}, summary="A saved search")
    def get(self, request: Request, saved_search_id: int) -> Response:
        saved_search = selectors.saved_search_get_for_owner(
            owner=request.user, saved_search_id=saved_search_id
        )
        return Response(
            selectors.saved_search_detail(saved_search, selectors.saved_search_latest_run(saved_search))
        )

    @extend_schema(
        request=SavedSearchWriteSerializer,
        responses={
            200: SavedSearchSerializer,
            400: OpenApiResponse(description="Invalid input; `errors` names each bad field."),
            404: _NOT_FOUND,
            409: OpenApiResponse(description="Another of your saved searches has this name."),
        },
        summary="Change a saved search (name, request, schedule)",
    )
    def patch(self, request: Request, saved_search_id: int) -> Response:
        saved_search = selectors.saved_search_get_for_owner(
            owner=request.user, saved_search_id=saved_search_id
        )
        body = SavedSearchWriteSerializer(saved_search, data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        saved_search = services.saved_search_update(saved_search=saved_search, **body.validated_data)
        return Response(
            selectors.saved_search_detail(saved_search, selectors.saved_search_latest_run(saved_search))
        )

    @extend_schema(responses={204: None, 404: _NOT_FOUND}, summary="Delete a saved search and its schedule")
    def delete(self, request: Request, saved_search_id: int) -> Response:
        saved_search = selectors.saved_search_get_for_owner(
            owner=request.user, saved_search_id=saved_search_id
        )
        services.saved_search_delete(saved_search=saved_search)
        return Response(status=204)


class SavedSearchRunNowApi(APIView):
    throttle_classes = [JobSubmitThrottle]

    @extend_schema(
        request=None,
        responses={
            202: OpenApiResponse(description='{"status": "queued"}'),
            404: _NOT_FOUND,
            # Runs share the submit throttle: a run is a job submission.
            429: OpenApiResponse(
                ErrorResponseSerializer, description="Too many submissions; see Retry-After."
            ),
        },
        summary="Run a saved search now (its run and job appear in its runs and My jobs)",
    )
    def post(self, request: Request, saved_search_id: int) -> Response:
        saved_search = selectors.saved_search_get_for_owner(
            owner=request.user, saved_search_id=saved_search_id
        )
        run_saved_search_task.delay(saved_search.id, trigger=RunTrigger.MANUAL)
        return Response({"status": "queued", "saved_search_id": saved_search.id}, status=202)


class SavedSearchRunListApi(APIView):
    # Declared on the view so the schema documents the paginated envelope it answers with.
    pagination_class = ListPagination

    @extend_schema(
        responses={200: RunSerializer(many=True), 404: _NOT_FOUND},
        summary="A saved search's runs, newest first",
    )
    def get(self, request: Request, saved_search_id: int) -> Response:
        saved_search = selectors.saved_search_get_for_owner(
            owner=request.user, saved_search_id=saved_search_id
        )
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(saved_search.runs.select_related("job"), request, view=self)
        return paginator.get_paginated_response([selectors.run_detail(run) for run in page])


class SavedSearchNewContractsApi(APIView):
    @extend_schema(
        parameters=[NewContractsQuerySerializer],
        responses={
            200: ContractSearchResponseSerializer,
            404: _NOT_FOUND,
        },
        summary="A page of the contracts a run found new since the run before it",
    )
    def get(self, request: Request, saved_search_id: int, run_id: int) -> Response:
        query = NewContractsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        saved_search = selectors.saved_search_get_for_owner(
            owner=request.user, saved_search_id=saved_search_id
        )
        run = selectors.run_get(saved_search=saved_search, run_id=run_id)
        filters = job_kind(saved_search.kind).parse(saved_search.request)["filters"]
        return Response(selectors.run_new_contracts(run=run, filters=filters, **query.validated_data))
