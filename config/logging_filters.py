"""What log lines may carry: no credentials, and no tracebacks for a client's mistakes.

Websocket clients that cannot send headers pass ``?token=``, and access logs print the
full path; ``RedactSecretsFilter`` masks the value before any handler formats it.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import unquote_plus

SECRET_NAMES = frozenset({"token", "access_token", "api_key", "password"})
# A query parameter: its name as sent (possibly percent-encoded) and its value.
_QUERY_PAIR = re.compile(r"(?P<lead>^|[?&;])(?P<name>[^=&;?\s\"']+)=(?P<value>[^&;\s\"']*)")


def _decoded_name(name: str) -> str:
    """The name a query parser would see: ``tok%65n`` and ``tok%2565n`` are both ``token``."""
    for _ in range(3):
        decoded = unquote_plus(name)
        if decoded == name:
            break
        name = decoded
    return name.lower()


def _mask(match: re.Match[str]) -> str:
    if _decoded_name(match["name"]) in SECRET_NAMES:
        return f"{match['lead']}{match['name']}=[redacted]"
    return match[0]


def redact(text: str) -> str:
    return _QUERY_PAIR.sub(_mask, text)


class RedactSecretsFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(arg) if isinstance(arg, str) else arg for arg in record.args)
        return True


class WithoutTracebackFilter(logging.Filter):
    """Logs the message, not the traceback. For Django's security loggers: a bad Host header
    or a forged cookie is the client's mistake, its traceback is Django's own, and anyone
    could fill the log with them. The access log still records each such request."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.exc_info = None
        record.exc_text = None
        return True
