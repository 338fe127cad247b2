"""Request bodies validated by a serializer this thread keeps, not one built per request.

Building a DRF serializer deep-copies every field it declares, and a filtered request
declares two dozen (a list of names per entity chip, each with its item field and
validators). That copy was a fifth of a submit's CPU (2.4 of 12.5 M instructions). A serializer
built once validates any number of bodies through ``run_validation``, the call DRF itself
makes on nested serializers; it is kept per thread because a validation may leave values on
its fields for the enclosing serializer to read (``FiltersSerializer.paging``), which two
threads must not share.

Only valid input takes the kept serializer's answer. A body it refuses is validated again by
a fresh serializer, so a 400 is exactly the document ``is_valid(raise_exception=True)``
gives, and valid input gets the same ``validated_data`` (a test holds the two paths equal).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from rest_framework import serializers

_kept = threading.local()


def validated_data(serializer_class: type[serializers.Serializer], data: Any) -> dict[str, Any]:
    """``serializer_class(data=data)``'s validated data; raises its ValidationError (a 400)."""
    by_class: dict[type, serializers.Serializer] | None = getattr(_kept, "by_class", None)
    if by_class is None:
        by_class = _kept.by_class = {}
    serializer = by_class.get(serializer_class)
    if serializer is None:
        serializer = by_class[serializer_class] = serializer_class()
    try:
        value = serializer.run_validation(data)
    except serializers.ValidationError:
        value = None
    if isinstance(value, Mapping):
        return dict(value)
    fresh = serializer_class(data=data)
    fresh.is_valid(raise_exception=True)
    return dict(fresh.validated_data)
