"""The one request parser of the API: JSON only, bounded in size, depth and text.

DRF's JSONParser hands any body to ``json.load``: a body of ``"[" * 100000`` raises
RecursionError, a lone surrogate (``"\\ud800"``) or a NUL character parses fine and then
breaks the response encoder or PostgreSQL, and the body is read whatever its size. Here
each of those is a 4xx in the one error shape before any view sees the data.
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser
from rest_framework.utils.json import strict_constant

from .errors import RequestBodyTooLarge

# Our request bodies nest four levels (filters → time_ranges → one range → its fields).
MAX_JSON_DEPTH = 32


class BoundedJSONParser(JSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise RequestBodyTooLarge.for_limit(limit)
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            data = json.loads(raw.decode(encoding), parse_constant=strict_constant)
        except RecursionError as exc:
            raise ParseError(f"JSON parse error - nested deeper than {MAX_JSON_DEPTH} levels.") from exc
        except (ValueError, UnicodeDecodeError) as exc:
            raise ParseError(f"JSON parse error - {exc}") from exc
        check_json_value(data)
        return data


def check_json_value(data: Any) -> None:
    """Refuse nesting past MAX_JSON_DEPTH and text that is not storable Unicode.

    Iterative, so that checking a deep document cannot itself exhaust the stack.
    """
    pending: list[tuple[Any, int]] = [(data, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, str):
            _check_text(value)
        elif isinstance(value, (dict, list)):
            if depth > MAX_JSON_DEPTH:
                raise ParseError(f"JSON parse error - nested deeper than {MAX_JSON_DEPTH} levels.")
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                if isinstance(key, str):
                    _check_text(key)
                pending.append((item, depth + 1))


def _check_text(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ParseError("JSON parse error - a string holds an unpaired surrogate.") from exc
    if "\x00" in text:
        raise ParseError("JSON parse error - a string holds a NUL character (\\u0000).")
