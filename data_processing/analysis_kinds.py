"""The red-flag, drill-down and entity-table export job kinds.

Each is a declaration over the selector its synchronous chip endpoint calls, with the same
request serializer: routes, schema, queue, task and dashboard labels follow from the
registry. The entity-table export writes a file, so it runs on the exports queue and its
results are per user, like the contract export.
"""

from __future__ import annotations

from typing import Any

from contracts.analysis_serializers import (
    DigitsRequestSerializer,
    EntityExportRequestSerializer,
    RelatedContractsRequestSerializer,
    RelatedEntitiesRequestSerializer,
    TreemapRequestSerializer,
    ValueDistributionRequestSerializer,
)
from contracts.selectors.drilldown import related_contracts, related_entities
from contracts.selectors.red_flags import benford, rounding, value_distribution
from contracts.selectors.treemap import value_treemap

# The first four kinds are registered first, so they are listed first.
from . import kinds  # noqa: F401
from .entity_exports import export_entity_table
from .exports import export_path
from .registry import JobKindSpec, RunContext, register, selector_runner


def _run_entity_table_export(params: dict[str, Any], context: RunContext) -> Any:
    job_id = context.owning_job_id()
    result = export_entity_table(
        job_id=job_id, attempt=context.attempt, **params, on_progress=context.on_progress
    )
    context.keep_file(export_path(job_id).name)
    return result


VALUE_DISTRIBUTION = register(
    JobKindSpec(
        name="value_distribution",
        label="Value distribution",
        slug="value-distribution",
        request_serializer=ValueDistributionRequestSerializer,
        runner=selector_runner(value_distribution),
        summary="Queue a histogram of amounts with thresholds marked",
    )
)
BENFORD = register(
    JobKindSpec(
        name="benford",
        label="Benford's law",
        slug="benford",
        request_serializer=DigitsRequestSerializer,
        runner=selector_runner(benford),
        summary="Queue Benford's-law digit tests of the amounts",
    )
)
ROUNDING = register(
    JobKindSpec(
        name="rounding",
        label="Round amounts",
        slug="rounding",
        request_serializer=DigitsRequestSerializer,
        runner=selector_runner(rounding),
        summary="Queue the rounding analysis of the amounts",
    )
)
VALUE_TREEMAP = register(
    JobKindSpec(
        name="value_treemap",
        label="Treemap",
        slug="value-treemap",
        request_serializer=TreemapRequestSerializer,
        runner=selector_runner(value_treemap),
        summary="Queue the value by category and contractor (treemap data)",
    )
)
RELATED_ENTITIES = register(
    JobKindSpec(
        name="related_entities",
        label="Drill-down",
        slug="related-entities",
        request_serializer=RelatedEntitiesRequestSerializer,
        runner=selector_runner(related_entities),
        summary="Queue one entity's top related entities on another dimension",
    )
)
RELATED_CONTRACTS = register(
    JobKindSpec(
        name="related_contracts",
        label="Drill-down contracts",
        slug="related-contracts",
        request_serializer=RelatedContractsRequestSerializer,
        runner=selector_runner(related_contracts),
        summary="Queue one page of the contracts of an entity pair",
    )
)
ENTITY_TABLE_EXPORT = register(
    JobKindSpec(
        name="entity_table_export",
        label="Entity table export",
        slug="entity-table-export",
        request_serializer=EntityExportRequestSerializer,
        runner=_run_entity_table_export,
        summary="Queue a CSV export of every row of the entity table",
        queue="exports",
        per_user=True,
        writes_file=True,
    )
)
