"""What the OpenAPI schema says of the strict request bodies, derived from their fields.

drf-spectacular maps each field's type and validators. Two rules these bodies enforce are
not validators, so it leaves them out, and a client generated from the schema (or a fuzzer
that trusts it) would send bodies the API refuses:

- a ``StrictSerializer`` refuses any field it does not declare: ``additionalProperties: false``;
- a CharField that may not be blank refuses ``""`` and, since it trims whitespace first,
  any string of whitespace only: ``minLength: 1`` and ``pattern: \\S`` (some character that
  is not whitespace), in a list's items too.

Registered by ``ContractsConfig.ready`` (drf-spectacular finds extensions by import).
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.plumbing import force_instance
from rest_framework import serializers

NOT_ONLY_WHITESPACE = r"\S"


class StrictSerializerExtension(OpenApiSerializerExtension):
    target_class = "contracts.serializers.StrictSerializer"
    match_subclasses = True

    def map_serializer(self, auto_schema: Any, direction: str) -> dict[str, Any]:
        serializer = force_instance(self.target)
        schema = auto_schema._map_serializer(serializer, direction, bypass_extensions=True)
        schema["additionalProperties"] = False
        if direction == "request":
            document_non_blank(schema, serializer)
        return schema


def document_non_blank(schema: dict[str, Any], serializer: serializers.Serializer) -> None:
    """Add to a request body's ``schema`` what its CharFields that may not be blank refuse."""
    properties = schema.get("properties", {})
    for name, field in serializer.fields.items():
        if name in properties:
            _document_non_blank(properties[name], field)


def _document_non_blank(schema: dict[str, Any], field: serializers.Field) -> None:
    if isinstance(field, serializers.ListField) and "items" in schema:
        _document_non_blank(schema["items"], field.child)
        return
    if not isinstance(field, serializers.CharField) or field.allow_blank or field.read_only:
        return
    if schema.get("type") != "string":
        return
    schema.setdefault("minLength", 1)
    if field.trim_whitespace:
        schema.setdefault("pattern", NOT_ONLY_WHITESPACE)
