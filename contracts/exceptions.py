"""Domain errors of the contracts app; the DRF handler in config.errors renders them."""

from __future__ import annotations

from config.errors import ApplicationError


class InvalidQueryError(ApplicationError):
    """A selector was asked for something outside its whitelist (ordering, entity, field).

    The API serializers reject such input first; this guards callers that skip them
    (a task replaying stored arguments), and is never worth a retry.
    """

    status_code = 400
    code = "invalid_query"
