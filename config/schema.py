"""How the OpenAPI schema is made beyond drf-spectacular's defaults.

- Operations are described by their own docstrings only (``AutoSchema``).
- The error answers every operation can give are documented once. Which errors an operation
  can answer follows from its shape, so they are derived here rather than repeated on every
  view: an authenticated operation can answer 401; one that reads parameters or a body,
  400; one with a path id, 404; one with a body (every POST, all throttled), 413, 415 and
  429. Each uses the one error body (config/errors.py).
"""

from __future__ import annotations

import inspect
from typing import Any

from drf_spectacular import openapi

ERROR_SCHEMA_NAME = "ErrorResponse"
_ERROR_BODY = {
    "type": "object",
    "properties": {
        "status": {"type": "string", "enum": ["error"]},
        "code": {"type": "string"},
        "message": {"type": "string"},
        "errors": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
    },
    "required": ["status", "code", "message", "errors"],
}
GENERIC_ERRORS = {
    400: "Invalid input; `errors` names each bad field.",
    401: "Not authenticated.",
    404: "Not found (or not yours).",
    413: "The request body is larger than `API_MAX_BODY_BYTES`.",
    415: "The request body is not JSON.",
    429: "Too many requests (a rate or a per-user limit); see Retry-After.",
}


class AutoSchema(openapi.AutoSchema):
    """drf-spectacular's, but an operation's description is the docstring of its own view
    class or method, never one inherited from a base class or mixin: those say how the code
    works (a native async view, what a mixin overrides), for its readers, not the API's."""

    def get_description(self) -> str:
        view = type(self.view)
        method = view.__dict__.get(getattr(self.view, "action", None) or self.method.lower())
        doc = getattr(method, "__doc__", None) or view.__dict__.get("__doc__")
        return inspect.cleandoc(doc) if doc else ""


def _errors_for(operation: dict[str, Any]) -> set[int]:
    codes: set[int] = set()
    security = operation.get("security")
    if security and {} not in security:
        codes.add(401)
    parameters = operation.get("parameters", [])
    if parameters or "requestBody" in operation:
        codes.add(400)
    if any(parameter.get("in") == "path" for parameter in parameters):
        codes.add(404)
    if "requestBody" in operation:
        codes |= {413, 415, 429}
    return codes


def add_error_responses(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """drf-spectacular postprocessing hook, listed under POSTPROCESSING_HOOKS in the settings."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault(ERROR_SCHEMA_NAME, _ERROR_BODY)
    reference = {"$ref": f"#/components/schemas/{ERROR_SCHEMA_NAME}"}
    for methods in result.get("paths", {}).values():
        for operation in methods.values():
            responses = operation.setdefault("responses", {})
            for code in sorted(_errors_for(operation)):
                content = {"application/json": {"schema": reference}}
                responses.setdefault(str(code), {"description": GENERIC_ERRORS[code], "content": content})
    return result
