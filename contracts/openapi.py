"""What the OpenAPI schema says of request bodies beyond drf-spectacular's own mapping,
derived from their fields.

drf-spectacular maps each field's type and validators. Three rules the API enforces are
not validators, so it leaves them out or says less, and a client generated from the schema
(or a fuzzer that trusts it) would send bodies the API refuses, or refuse to send ones it
takes:

- a ``StrictSerializer`` refuses any field it does not declare: ``additionalProperties: false``;
- a CharField that may not be blank refuses ``""`` and, since it trims whitespace first,
  any string of whitespace only: ``minLength: 1`` and a ``pattern`` that wants some
  character that is not whitespace as Python reads it, in a list's items too;
- a DecimalField takes a JSON number as well as its text, and its text only in plain
  notation within its digits (drf-spectacular documents text alone, with a pattern that
  allows ``""`` and ``"-"``): a request's decimal is text of that form, blank only where
  it may be null, or a number within its bounds (``1000000.01`` as well as ``1000000``).
  What a schema cannot say of a binary number, that it has no more decimal places than the
  field keeps (``multipleOf: 0.01`` fails 0.57 in a validator's float arithmetic), the API
  still answers with a 400 naming the field.

Registered by ``ContractsConfig.ready`` (drf-spectacular finds extensions by import).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from drf_spectacular.extensions import OpenApiSerializerExtension, OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import force_instance
from rest_framework import serializers


def _python_whitespace_class() -> str:
    """A regex class of every character str.strip() (DRF's trim) removes, in runs.

    JSON Schema's whitespace class (ECMA-262's) is not that set: Python also strips U+001C to
    U+001F and U+0085, and keeps U+FEFF. The largest whitespace character Python knows is U+3000.
    """
    runs: list[list[int]] = []
    for code in (c for c in range(0x3001) if chr(c).isspace()):
        if runs and runs[-1][1] == code - 1:
            runs[-1][1] = code
        else:
            runs.append([code, code])
    return "".join(rf"\u{a:04x}" + (rf"-\u{b:04x}" if b > a else "") for a, b in runs)


# Some character that is not whitespace as the API reads it.
NOT_ONLY_WHITESPACE = f"[^{_python_whitespace_class()}]"


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


class RequestDecimalExtension(OpenApiSerializerFieldExtension):
    target_class = "rest_framework.fields.DecimalField"
    match_subclasses = True

    def map_serializer_field(self, auto_schema: Any, direction: str) -> dict[str, Any]:
        field = self.target
        if direction != "request":
            return auto_schema._map_serializer_field(field, direction, bypass_extensions=True)
        return decimal_request_schema(field)


def decimal_request_schema(field: serializers.DecimalField) -> dict[str, Any]:
    """What ``field`` takes in a request: its text in plain notation, or a number."""
    places = field.decimal_places or 0
    whole = "+" if field.max_digits is None else f"{{1,{field.max_digits - places}}}"
    number = rf"\d{whole}" if not places else rf"(\d{whole}(\.\d{{0,{places}}})?|\.\d{{1,{places}}})"
    signs = "[+-]?" if field.min_value is None or field.min_value < 0 else r"\+?"
    body = f"{signs}{number}"
    if field.allow_null:
        body = f"({body})?"  # blank text is null
    text = {"type": "string", "pattern": rf"^\s*{body}\s*$"}
    number: dict[str, Any] = {"type": "number"}
    if field.min_value is not None:
        number["minimum"] = _json_number(field.min_value)
    if field.max_value is not None:
        number["maximum"] = _json_number(field.max_value)
    elif field.max_digits is not None:
        number["maximum"] = 10 ** (field.max_digits - places) - 1
    return {"oneOf": [text, number]}


def _json_number(value: Decimal | int) -> int | float:
    """A bound as the schema's JSON writes it: 25, not 25.0; 0.01 as itself."""
    return int(value) if value == int(value) else float(value)
