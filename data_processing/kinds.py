"""The built-in job kinds: search, analytics, entity table and export.

Each runner is one of the contracts selectors the synchronous chip endpoints call, so
there is one implementation of "search", "aggregates" and "entity table". Adding a kind
is one more declaration here (or in any module listed in ``EXTRA_JOB_KINDS``) plus its
selector; routes, schema, queue, task and dashboard follow from the registry.
"""

from __future__ import annotations

from typing import Any

from contracts.selectors import contract_aggregates, contract_search, entity_table
from contracts.serializers import (
    ChipAggregatesRequestSerializer,
    ChipSearchRequestSerializer,
    EntityTableRequestSerializer,
)

from .exports import export_contracts, export_path
from .registry import JobKindSpec, RunContext, register, selector_runner
from .serializers import ExportRequestSerializer


def _run_search(params: dict[str, Any], context: RunContext) -> Any:
    # One indexed query (count + page): there is no partial progress worth reporting.
    return contract_search(**params)


def _run_export(params: dict[str, Any], context: RunContext) -> Any:
    job_id = context.owning_job_id()
    result = export_contracts(
        job_id=job_id, attempt=context.attempt, filters=params["filters"], on_progress=context.on_progress
    )
    context.keep_file(export_path(job_id).name)
    return result


SEARCH = register(
    JobKindSpec(
        name="search",
        label="Search",
        slug="search",
        request_serializer=ChipSearchRequestSerializer,
        runner=_run_search,
        summary="Queue a contract search",
        warm_payloads=({"filters": {}},),
    )
)
ANALYTICS = register(
    JobKindSpec(
        name="analytics",
        label="Analytics",
        slug="analytics",
        request_serializer=ChipAggregatesRequestSerializer,
        runner=selector_runner(contract_aggregates),
        summary="Queue the analytics aggregates",
        warm_payloads=({"filters": {}},),
    )
)
ENTITY_TABLE = register(
    JobKindSpec(
        name="entity_table",
        label="Entity table",
        slug="entity-table",
        request_serializer=EntityTableRequestSerializer,
        runner=selector_runner(entity_table),
        summary="Queue a per-entity table (contractors, organizations, areas or categories)",
        warm_payloads=({"filters": {}, "entity_type": "contractor"},),
        # Its first names: jobs stored before the rename are migrated, clients may still
        # filter by the old name and post to the old URL.
        name_aliases=("analytics_table",),
        slug_aliases=("analytics-paginated",),
    )
)
EXPORT = register(
    JobKindSpec(
        name="export",
        label="Export",
        slug="export",
        request_serializer=ExportRequestSerializer,
        runner=_run_export,
        summary="Queue a CSV export of every matching contract",
        # Exports read every matching row; on their own queue they never starve interactive jobs.
        queue="exports",
        per_user=True,
        writes_file=True,
    )
)
