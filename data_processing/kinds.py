"""What each kind of job is: how its request is validated, what it runs, where it is cached.

Every runner is one of the contracts selectors the synchronous chip endpoints call, so
there is one implementation of "search", "aggregates" and "entity table".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rest_framework import serializers

from contracts.filters import ContractFilters
from contracts.selectors import contract_aggregates, contract_search, entity_table
from contracts.serializers import (
    ChipAggregatesRequestSerializer,
    ChipSearchRequestSerializer,
    EntityTableRequestSerializer,
)

from .exports import export_contracts
from .models import Job, JobKind
from .serializers import ExportRequestSerializer

ProgressCallback = Callable[[int, int, str], None]
Runner = Callable[[Job | None, dict[str, Any], ProgressCallback], Any]


def _run_search(job: Job | None, params: dict[str, Any], on_progress: ProgressCallback) -> Any:
    # One indexed query (count + page): there is no partial progress worth reporting.
    return contract_search(**params)


def _run_analytics(job: Job | None, params: dict[str, Any], on_progress: ProgressCallback) -> Any:
    return contract_aggregates(**params, on_progress=on_progress)


def _run_analytics_table(job: Job | None, params: dict[str, Any], on_progress: ProgressCallback) -> Any:
    return entity_table(**params, on_progress=on_progress)


def _run_export(job: Job | None, params: dict[str, Any], on_progress: ProgressCallback) -> Any:
    assert job is not None, "an export writes a file that belongs to its job"
    return export_contracts(job=job, filters=params["filters"], on_progress=on_progress)


@dataclass(frozen=True)
class JobKindSpec:
    kind: JobKind
    label: str
    cache_prefix: str
    request_serializer: type[serializers.Serializer]
    runner: Runner
    # Results that belong to one user (an export file) are cached per user.
    per_user: bool = False

    def parse(self, payload: Any) -> dict[str, Any]:
        """Validated arguments for the runner; raises a DRF ValidationError (a 400) on bad input."""
        serializer = self.request_serializer(data=payload)
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    @staticmethod
    def canonical(params: dict[str, Any]) -> dict[str, Any]:
        return {
            key: value.canonical() if isinstance(value, ContractFilters) else value
            for key, value in params.items()
        }

    def run(self, *, job: Job | None, params: dict[str, Any], on_progress: ProgressCallback) -> Any:
        return self.runner(job, params, on_progress)


JOB_KINDS: dict[str, JobKindSpec] = {
    spec.kind: spec
    for spec in (
        JobKindSpec(JobKind.SEARCH, "Search task", "search", ChipSearchRequestSerializer, _run_search),
        JobKindSpec(
            JobKind.ANALYTICS, "Analytics task", "analytics", ChipAggregatesRequestSerializer, _run_analytics
        ),
        JobKindSpec(
            JobKind.ANALYTICS_TABLE,
            "Analytics table task",
            "analytics_table",
            EntityTableRequestSerializer,
            _run_analytics_table,
        ),
        JobKindSpec(
            JobKind.EXPORT, "Export task", "export", ExportRequestSerializer, _run_export, per_user=True
        ),
    )
}


def job_kind(kind: str) -> JobKindSpec:
    return JOB_KINDS[kind]
