"""Cache keys: the same request over the same data always maps to the same key.

A key is ``<prefix>:<hash>`` (``search:3f9a…``), so ``redis-cli KEYS 'search:*'`` finds the
cached searches. The hash covers the canonical request and the dataset version, so a new
import makes every earlier key unreachable. A recreated database's versions start again, so
its first one deletes every key of this shape (``result_cache.results_forget_all``).
"""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from typing import Any


def _canonical_value(value: Any) -> str:
    """Validated numbers that JSON cannot spell: a Decimal by its value ("2.00" is "2")."""
    if isinstance(value, Decimal):
        return str(value.normalize())
    raise TypeError(f"{type(value).__name__} is not part of a canonical request")


def fingerprint_for(kind: str, canonical_params: dict[str, Any]) -> str:
    """Hash of the request alone; equal for requests that differ only in chip order, case…"""
    body = json.dumps(
        {"kind": kind, "params": canonical_params},
        sort_keys=True,
        separators=(",", ":"),
        default=_canonical_value,
    )
    return hashlib.sha256(body.encode()).hexdigest()


DIGEST_LENGTH = 32


def cache_key_for(prefix: str, fingerprint: str, dataset_version: int) -> str:
    digest = hashlib.sha256(f"{fingerprint}:{dataset_version}".encode()).hexdigest()[:DIGEST_LENGTH]
    return f"{prefix}:{digest}"


def cache_key_pattern(prefix: str) -> str:
    """A Redis glob matching every key ``cache_key_for`` makes with ``prefix``, and no other."""
    return f"{prefix}:{'[0-9a-f]' * DIGEST_LENGTH}"
