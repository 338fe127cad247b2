"""The ``"async_mode": true`` switch of the synchronous chip endpoints.

Contracts knows nothing about jobs, so the switch lives here, where the two meet: these
views extend the chip views. With ``async_mode: true`` the request is submitted as a job
and answered exactly like the async endpoint; otherwise the chip view answers as before.
"""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from contracts import analysis_apis
from contracts import apis as chip_apis

from . import services
from .analysis_kinds import (
    BENFORD,
    ENTITY_TABLE_EXPORT,
    RELATED_CONTRACTS,
    RELATED_ENTITIES,
    ROUNDING,
    VALUE_DISTRIBUTION,
    VALUE_TREEMAP,
)
from .apis import JobSubmitThrottle, idempotency_key_from, submission_response
from .kinds import ANALYTICS, ENTITY_TABLE, SEARCH


def split_async_mode(data: Any) -> tuple[bool, Any]:
    """(async_mode, the body without it); a non-boolean switch is a 400, not a guess."""
    if not isinstance(data, dict) or "async_mode" not in data:
        return False, data
    async_mode = data["async_mode"]
    if not isinstance(async_mode, bool):
        raise ValidationError({"async_mode": ["Must be true or false."]})
    return async_mode, {key: value for key, value in data.items() if key != "async_mode"}


class AsyncModeMixin:
    """Overrides the chip view's ``respond(data)``, so its documented ``post`` stays as is."""

    job_kind: str
    request: Request

    def get_throttles(self) -> list[Any]:
        """A job submission counts against the submit limit; a synchronous query against the chip limit."""
        async_mode, _payload = split_async_mode(self.request.data)
        return [JobSubmitThrottle()] if async_mode else super().get_throttles()  # type: ignore[misc]

    def respond(self, data: Any) -> Response:
        async_mode, payload = split_async_mode(data)
        # Checked either way: the endpoint documents the header, which only a job uses.
        idempotency_key = idempotency_key_from(self.request)
        if not async_mode:
            return super().respond(payload)  # type: ignore[misc]
        submission = services.job_submit(
            owner=self.request.user, kind=self.job_kind, payload=payload, idempotency_key=idempotency_key
        )
        return submission_response(submission)


class ChipSearchApi(AsyncModeMixin, chip_apis.ChipSearchApi):
    job_kind = SEARCH.name


class ChipAggregatesApi(AsyncModeMixin, chip_apis.ChipAggregatesApi):
    job_kind = ANALYTICS.name


class ChipAggregatesPaginatedApi(AsyncModeMixin, chip_apis.ChipAggregatesPaginatedApi):
    job_kind = ENTITY_TABLE.name


class ValueDistributionApi(AsyncModeMixin, analysis_apis.ValueDistributionApi):
    job_kind = VALUE_DISTRIBUTION.name


class BenfordApi(AsyncModeMixin, analysis_apis.BenfordApi):
    job_kind = BENFORD.name


class RoundingApi(AsyncModeMixin, analysis_apis.RoundingApi):
    job_kind = ROUNDING.name


class TreemapApi(AsyncModeMixin, analysis_apis.TreemapApi):
    job_kind = VALUE_TREEMAP.name


class RelatedEntitiesApi(AsyncModeMixin, analysis_apis.RelatedEntitiesApi):
    job_kind = RELATED_ENTITIES.name


class RelatedContractsApi(AsyncModeMixin, analysis_apis.RelatedContractsApi):
    job_kind = RELATED_CONTRACTS.name


class EntityTableExportApi(AsyncModeMixin, analysis_apis.EntityTableExportApi):
    job_kind = ENTITY_TABLE_EXPORT.name
