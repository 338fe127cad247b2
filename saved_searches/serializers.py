"""Input and output shapes of the saved-search API.

A saved request is validated by the very serializer a submit of its kind uses (the job-kind
registry's), so a search that saves is one that runs.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework import serializers

from contracts.responses import MoneyField
from contracts.selectors.search import CONTRACT_ORDERINGS
from contracts.serializers import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    QueryStringSerializer,
    StrictBooleanField,
    StrictCharField,
    StrictIntegerField,
    StrictSerializer,
)
from data_processing.registry import canonical_kind, job_kind, job_kinds

from .models import RunTrigger
from .schedules import crontab_fields

MAX_INTERVAL_SECONDS = 31 * 24 * 3600


class JobKindField(StrictCharField):
    """A registered job kind (or one of its older names), stored under its current name."""

    def to_internal_value(self, data: object) -> str:
        kind = canonical_kind(super().to_internal_value(data))
        if kind is None:
            names = ", ".join(spec.name for spec in job_kinds())
            raise serializers.ValidationError(f"Unknown job kind; one of {names}.")
        return kind


class SavedSearchWriteSerializer(StrictSerializer):
    name = StrictCharField(max_length=100)
    kind = JobKindField(
        max_length=40, help_text="A job kind, as GET /api/v1/data-processing/kinds/ lists them."
    )
    request = serializers.JSONField(help_text="The body a submit of this kind takes.")
    every_seconds = StrictIntegerField(
        required=False, allow_null=True, max_value=MAX_INTERVAL_SECONDS, help_text="Run every N seconds."
    )
    crontab = StrictCharField(
        required=False,
        allow_blank=True,
        max_length=100,
        help_text='"minute hour day-of-month month day-of-week"',
    )
    run_after_import = StrictBooleanField(required=False, default=False)

    def validate_name(self, value: str) -> str:
        name = " ".join(value.split())
        if not name:
            raise serializers.ValidationError("Give the search a name.")
        return name

    def validate_every_seconds(self, value: int | None) -> int | None:
        least = settings.SAVED_SEARCH_MIN_INTERVAL_SECONDS
        if value is not None and value < least:
            raise serializers.ValidationError(f"Must be at least {least} seconds.")
        return value

    def validate_crontab(self, value: str) -> str:
        if value.strip():
            try:
                crontab_fields(value)
            except ValueError as exc:
                raise serializers.ValidationError(f"Not a usable crontab: {exc}.") from exc
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("every_seconds") and (attrs.get("crontab") or "").strip():
            raise serializers.ValidationError({"every_seconds": ["Give an interval or a crontab, not both."]})
        current = self.instance
        kind = attrs.get("kind", current.kind if current else None)
        if "kind" in attrs or "request" in attrs:
            request = attrs.get("request", current.request if current else None)
            try:
                job_kind(kind).parse(request)
            except serializers.ValidationError as exc:
                raise serializers.ValidationError({"request": exc.detail}) from exc
        return attrs


class RunSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    trigger = serializers.ChoiceField(choices=RunTrigger.choices)
    created_at = serializers.DateTimeField()
    task_id = serializers.UUIDField(allow_null=True, help_text="The run's job (status, result, websocket).")
    job_state = serializers.CharField(allow_null=True)
    cache_key = serializers.CharField(allow_null=True)
    matched_count = serializers.IntegerField()
    total_amount = MoneyField()
    new_count = serializers.IntegerField(help_text="Matching contracts the previous run had not seen.")
    count_change = serializers.IntegerField(allow_null=True, help_text="Against the previous run.")
    total_change = MoneyField(allow_null=True, help_text="Against the previous run.")
    new_contracts_url = serializers.CharField()


class SavedSearchSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    kind = serializers.CharField()
    request = serializers.JSONField()
    every_seconds = serializers.IntegerField(allow_null=True)
    crontab = serializers.CharField()
    run_after_import = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    last_run = serializers.DateTimeField(allow_null=True)
    next_scheduled_run = serializers.DateTimeField(allow_null=True)
    latest_run = RunSerializer(allow_null=True)


class NewContractsQuerySerializer(QueryStringSerializer):
    page = serializers.IntegerField(min_value=1, default=1)
    page_size = serializers.IntegerField(min_value=1, max_value=MAX_PAGE_SIZE, default=DEFAULT_PAGE_SIZE)
    ordering = serializers.ChoiceField(
        choices=[f"{sign}{field}" for field in CONTRACT_ORDERINGS for sign in ("", "-")],
        default="-award_date",
    )
