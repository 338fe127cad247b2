"""Chip responses that say which dataset version answered them.

While the columnar snapshot of a new version builds (seconds after an import), the previous
version's snapshot answers (see `contracts.columnar.serving`). Two response headers make that
visible: `X-Dataset-Version`, the version whose data the body reflects, and
`X-Dataset-Current-Version`, the version the database holds; they differ only in that window.
Both are absent when the columnar engine is off (the database answers, always current).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework.response import Response

from .columnar import answering

VERSION_HEADER = "X-Dataset-Version"
CURRENT_VERSION_HEADER = "X-Dataset-Current-Version"

VERSION_HEADERS = [
    OpenApiParameter(
        VERSION_HEADER,
        OpenApiTypes.INT,
        OpenApiParameter.HEADER,
        response=[200],
        description=(
            "The dataset version whose data this answer reflects. Lower than "
            f"{CURRENT_VERSION_HEADER} for the few seconds after an import while the new "
            "version's columnar snapshot is built. Absent when the columnar engine is off."
        ),
    ),
    OpenApiParameter(
        CURRENT_VERSION_HEADER,
        OpenApiTypes.INT,
        OpenApiParameter.HEADER,
        response=[200],
        description="The dataset version the database held when this was answered.",
    ),
]


def versioned_response(compute: Callable[[], Any]) -> Response:
    """`compute()` as a response, all its queries on one version, with the version headers."""
    with answering() as answer:
        data = compute()
    response = Response(data)
    if answer.version is not None and answer.current is not None:
        response[VERSION_HEADER] = str(answer.version)
        response[CURRENT_VERSION_HEADER] = str(answer.current)
    return response
