"""What the OpenAPI schema says of a saved search's body beyond what drf-spectacular maps
from its fields: checks made in code (the kinds there are, the shortest interval, a request
that is an object) and the non-blank names (``contracts.openapi``), so that a body the
schema allows is one the API takes, as far as a schema can say. Whether ``request`` suits
its ``kind`` is the kind's own serializer's to say, and the submit endpoints document it.

Registered by ``SavedSearchesConfig.ready`` (drf-spectacular finds extensions by import).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.plumbing import force_instance

from contracts.openapi import document_non_blank
from data_processing.registry import kind_names


class SavedSearchWriteExtension(OpenApiSerializerExtension):
    target_class = "saved_searches.serializers.SavedSearchWriteSerializer"

    def map_serializer(self, auto_schema: Any, direction: str) -> dict[str, Any]:
        serializer = force_instance(self.target)
        schema = auto_schema._map_serializer(serializer, direction, bypass_extensions=True)
        properties = schema.get("properties", {})
        if "kind" in properties:
            properties["kind"]["enum"] = kind_names()
        if "every_seconds" in properties:
            properties["every_seconds"]["minimum"] = settings.SAVED_SEARCH_MIN_INTERVAL_SECONDS
        if "request" in properties:
            properties["request"] = {"type": "object", **properties["request"]}
        if direction == "request":
            document_non_blank(schema, serializer)
        return schema
