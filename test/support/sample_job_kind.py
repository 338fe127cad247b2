"""A job kind that exists only in the tests: the proof that a new kind needs nothing but
its declaration and its selector.

Test processes load it through the test settings (``TEST_EXTRA_JOB_KINDS=
sample_job_kind.CONTRACT_COUNT``, with this directory on PYTHONPATH). Its own queue keeps
the session's shared worker, which does not know the kind, from taking its jobs.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from contracts.models import Contract
from data_processing.registry import JobKindSpec, RunContext

QUEUE = "sample_kind"


class ContractCountRequestSerializer(serializers.Serializer):
    title_contains = serializers.CharField(max_length=50)


def contract_count(*, title_contains: str) -> dict[str, Any]:
    """The selector: how many contracts have this text in their title."""
    return {
        "title_contains": title_contains,
        "count": Contract.objects.filter(title__icontains=title_contains).count(),
    }


def _run_contract_count(params: dict[str, Any], context: RunContext) -> Any:
    context.on_progress(1, 2, "Counting.")
    return contract_count(**params)


CONTRACT_COUNT = JobKindSpec(
    name="contract_count",
    label="Contract count",
    slug="contract-count",
    request_serializer=ContractCountRequestSerializer,
    runner=_run_contract_count,
    summary="Count the contracts whose title contains a text",
    queue=QUEUE,
)
