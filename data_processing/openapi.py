"""What the OpenAPI schema says of jobs beyond drf-spectacular's mapping of the views: two
postprocessing hooks, listed under POSTPROCESSING_HOOKS in the settings.

``link_job_answers``: a submit's answer carries a task_id and a cache_key, and OpenAPI
links name the operations that take them (status, result, cancel), so the Swagger UI, a
generated client or a stateful fuzzer can follow a job from its submit.

``document_async_mode``: the chip endpoints' ``"async_mode": true`` switch.

drf-spectacular documents each chip endpoint from its synchronous view: the chip's request
body, strict (``additionalProperties: false``), and its synchronous answer. With
``"async_mode": true`` the same endpoint submits a job and answers exactly as the submit
endpoint of that job kind does (``chip_routing.py``). So the hook completes each chip
operation from that submit operation:

- the body: the chip's body with ``async_mode``, as a component of its own
  (``<Body>WithAsyncMode``), since the strict original is the submit endpoint's body too;
- the submit's Idempotency-Key header;
- the submit's answers: 202, and 200 with a cached answer beside the synchronous one
  (``anyOf``), and its errors that the chip endpoint did not already list.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Iterator
from typing import Any

from django.urls import URLPattern, reverse

from . import chip_urls
from .chip_routing import AsyncModeMixin
from .registry import job_kind
from .serializers import SubmitCachedSerializer, SubmitQueuedSerializer

ASYNC_MODE = {
    "type": "boolean",
    "default": False,
    "description": "Run the query as a job: answered as the job kind's submit endpoint answers.",
}


# drf-spectacular names a serializer's component after its class, less "Serializer".
_JOB_ANSWERS = {
    f"#/components/schemas/{serializer.__name__.removesuffix('Serializer')}"
    for serializer in (SubmitQueuedSerializer, SubmitCachedSerializer)
}
_ANY_ID = uuid.UUID(int=0)


def link_job_answers(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """drf-spectacular postprocessing hook."""
    paths = result.get("paths", {})
    follow_ups = {  # link name: (path, method, the parameter, named as the answer's field)
        "status": (reverse("job-status"), "get", "task_id"),
        "result": (reverse("job-result"), "get", "cache_key"),
        "cancel": (_path_template("job-detail", "task_id"), "delete", "task_id"),
    }
    links = {
        name: {
            "operationId": paths[path][method]["operationId"],
            "parameters": {parameter: f"$response.body#/{parameter}"},
        }
        for name, (path, method, parameter) in follow_ups.items()
        if method in paths.get(path, {})
    }
    for methods in paths.values():
        for operation in methods.values():
            for answer in operation.get("responses", {}).values():
                schema = answer.get("content", {}).get("application/json", {}).get("schema", {})
                if schema.get("$ref") in _JOB_ANSWERS:
                    answer["links"] = copy.deepcopy(links)
    return result


def _path_template(name: str, parameter: str) -> str:
    """The schema's path of URL ``name``, its one ``parameter`` written as ``{parameter}``."""
    return reverse(name, kwargs={parameter: _ANY_ID}).replace(str(_ANY_ID), f"{{{parameter}}}")


def document_async_mode(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """drf-spectacular postprocessing hook."""
    paths = result.get("paths", {})
    schemas = result.get("components", {}).get("schemas", {})
    for chip_path, submit_path in _chip_and_submit_paths():
        chip = paths.get(chip_path, {}).get("post")
        submit = paths.get(submit_path, {}).get("post")
        if chip is None or submit is None:
            continue  # not in this schema (a subset was asked for)
        _add_the_switch(chip, schemas)
        _add_the_submit_answers(chip, submit, submit_path)
    return result


def _chip_and_submit_paths() -> Iterator[tuple[str, str]]:
    for pattern in chip_urls.urlpatterns:
        view = getattr(pattern.callback, "cls", None) if isinstance(pattern, URLPattern) else None
        if view is not None and issubclass(view, AsyncModeMixin):
            yield reverse(pattern.name), reverse(f"job-submit-{job_kind(view.job_kind).slug}")


def _add_the_switch(chip: dict[str, Any], schemas: dict[str, Any]) -> None:
    body = chip["requestBody"]["content"]["application/json"]
    name = body["schema"]["$ref"].rsplit("/", 1)[-1]
    switched = f"{name}WithAsyncMode"
    if switched not in schemas:
        schemas[switched] = copy.deepcopy(schemas[name])
        schemas[switched].setdefault("properties", {})["async_mode"] = ASYNC_MODE
    body["schema"] = {"$ref": f"#/components/schemas/{switched}"}


def _add_the_submit_answers(chip: dict[str, Any], submit: dict[str, Any], submit_path: str) -> None:
    responses = chip.setdefault("responses", {})
    for code, answer in submit["responses"].items():
        if code not in responses:
            responses[code] = copy.deepcopy(answer)
        elif code == "200":
            cached = answer["content"]["application/json"]["schema"]
            content = responses[code].setdefault("content", {})
            if "application/json" in content:
                synchronous = content["application/json"]["schema"]
                content["application/json"]["schema"] = {"anyOf": [synchronous, cached]}
            else:
                content["application/json"] = {"schema": cached}
            said = responses[code].get("description") or "The answer."
            responses[code]["description"] = f"{said} With async_mode: the job's answer, when it was cached."
    named = {parameter["name"] for parameter in chip.get("parameters", [])}
    for parameter in submit.get("parameters", []):
        if parameter["in"] == "header" and parameter["name"] not in named:
            chip.setdefault("parameters", []).append(copy.deepcopy(parameter))
    switch = (
        f'With `"async_mode": true`, the query runs as a job: answered as `{submit_path}` '
        "answers (202 with the job's task_id and cache_key, or 200 with its cached answer)."
    )
    chip["description"] = f"{chip['description']}\n\n{switch}" if chip.get("description") else switch
