"""Cache keys: the same request over the same data always maps to the same key.

A key is ``<prefix>:<hash>`` (``search:3f9a…``), so ``redis-cli KEYS 'search:*'`` finds the
cached searches. The hash covers the canonical request and the dataset version, so a new
import makes every earlier key unreachable.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any


def fingerprint_for(kind: str, canonical_params: dict[str, Any]) -> str:
    """Hash of the request alone; equal for requests that differ only in chip order, case…"""
    body = json.dumps({"kind": kind, "params": canonical_params}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(body.encode()).hexdigest()


def cache_key_for(prefix: str, fingerprint: str, dataset_version: int) -> str:
    digest = hashlib.sha256(f"{fingerprint}:{dataset_version}".encode()).hexdigest()[:32]
    return f"{prefix}:{digest}"
