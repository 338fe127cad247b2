"""Keep credentials out of log lines.

Websocket clients that cannot send headers pass ``?token=``, and access logs print the
full path; this filter masks the value before any handler formats it.
"""

from __future__ import annotations

import logging
import re

_SECRET_IN_QUERY = re.compile(
    r"((?:^|[?&])(?:token|access_token|api_key|password)=)[^&\s\"']+", re.IGNORECASE
)


def redact(text: str) -> str:
    return _SECRET_IN_QUERY.sub(r"\1[redacted]", text)


class RedactSecretsFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(arg) if isinstance(arg, str) else arg for arg in record.args)
        return True
