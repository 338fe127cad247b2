"""What the OpenAPI schema says of a saved search's body beyond what drf-spectacular maps
from its fields: checks made in code (the kinds there are, the shortest interval, a request
that is an object), besides what any strict body says (``contracts.openapi``), so that a body the
schema allows is one the API takes, as far as a schema can say. Whether ``request`` suits
its ``kind`` is the kind's own serializer's to say, and the submit endpoints document it.

Registered by ``SavedSearchesConfig.ready`` (drf-spectacular finds extensions by import).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from contracts.openapi import StrictSerializerExtension
from data_processing.registry import kind_names


class SavedSearchWriteExtension(StrictSerializerExtension):
    """A strict body's schema (no other field, non-blank names), with the checks above."""

    target_class = "saved_searches.serializers.SavedSearchWriteSerializer"
    match_subclasses = False
    priority = 1  # before StrictSerializerExtension, which matches this class too

    def map_serializer(self, auto_schema: Any, direction: str) -> dict[str, Any]:
        schema = super().map_serializer(auto_schema, direction)
        properties = schema.get("properties", {})
        if "kind" in properties:
            properties["kind"]["enum"] = kind_names()
        if "every_seconds" in properties:
            properties["every_seconds"]["minimum"] = settings.SAVED_SEARCH_MIN_INTERVAL_SECONDS
        if "request" in properties:
            properties["request"] = {"type": "object", **properties["request"]}
        return schema
