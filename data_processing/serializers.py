"""Request and response serializers of the job API (requests of the chip kinds live in contracts)."""

from __future__ import annotations

import re
from typing import Any

from rest_framework import serializers

from config.errors import ErrorResponseSerializer
from contracts.serializers import FilteredRequestSerializer, QueryStringSerializer

from .models import JobState
from .registry import canonical_kind, kind_names


class ExportRequestSerializer(FilteredRequestSerializer):
    """``{"filters": {...}}``: every matching contract goes into the CSV, so paging is ignored."""

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        return {"filters": super().to_internal_value(data)["filters"]}


class SubmitQueuedSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["queued"])
    task_id = serializers.UUIDField()
    cache_key = serializers.CharField()
    message = serializers.CharField()
    deduplicated = serializers.BooleanField()
    status_url = serializers.CharField()
    result_url = serializers.CharField()


class SubmitCachedSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["cached"])
    task_id = serializers.UUIDField()
    cache_key = serializers.CharField()
    data = serializers.JSONField()


class JobStatusSerializer(serializers.Serializer):
    task_id = serializers.UUIDField(source="id")
    kind = serializers.CharField(help_text="A job kind, as listed by `GET kinds/`.")
    state = serializers.ChoiceField(choices=JobState.choices)
    status = serializers.CharField(source="message")
    progress = serializers.IntegerField()
    meta = serializers.SerializerMethodField()
    cache_key = serializers.CharField()
    error = serializers.CharField(allow_null=True)
    attempts = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    completed_at = serializers.DateTimeField(allow_null=True)
    eta_seconds = serializers.IntegerField(allow_null=True)
    status_url = serializers.CharField()
    result_url = serializers.CharField()
    download_url = serializers.CharField(allow_null=True)

    def get_meta(self, job: Any) -> dict[str, int]:
        return {"progress": job.progress}


class JobResultSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["success"])
    cache_key = serializers.CharField()
    data = serializers.JSONField()


class ResultUnavailableSerializer(ErrorResponseSerializer):
    """Why a result is not there (the error body plus the job's id and, per case, more)."""

    task_id = serializers.UUIDField()
    state = serializers.CharField(required=False, help_text="Not ready only: the job's state.")
    progress = serializers.IntegerField(required=False, help_text="Not ready only: percent done.")
    error = serializers.CharField(required=False, help_text="Failed only: why.")


class JobListQuerySerializer(QueryStringSerializer):
    state = serializers.ChoiceField(choices=JobState.choices, required=False)

    def get_fields(self) -> dict[str, serializers.Field]:
        # The kinds are registered once the apps are ready, after this module is imported:
        # their names are read here, so the schema lists them too.
        fields = super().get_fields()
        fields["kind"] = serializers.ChoiceField(
            choices=kind_names(),
            required=False,
            help_text="A job kind (or an old name of one).",
            error_messages={"invalid_choice": '"{input}" is not a job kind; see GET kinds/.'},
        )
        return fields

    def validate_kind(self, value: str) -> str | None:
        return canonical_kind(value)  # a choice: always known; old names become current ones


class JobKindSerializer(serializers.Serializer):
    kind = serializers.CharField()
    label = serializers.CharField()
    submit_url = serializers.CharField()
    aliases = serializers.ListField(child=serializers.CharField(), help_text="Old names of this kind.")


CACHE_KEY_PATTERN = re.compile(r"^[a-z_]{1,20}:[0-9a-f]{32}$")


class ResultQuerySerializer(serializers.Serializer):
    cache_key = serializers.RegexField(CACHE_KEY_PATTERN, max_length=60)


class StatusQuerySerializer(serializers.Serializer):
    task_id = serializers.UUIDField()
