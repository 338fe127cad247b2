"""``dataset_changed``: sent once an import or a generation has committed new contract data.

Contracts knows nothing of what listens (saved searches re-run); the importer and the
generator call ``dataset_changed_send`` right after bumping the dataset version.
"""

from __future__ import annotations

from django.db import transaction
from django.dispatch import Signal

# Receivers get ``version``: the dataset version the change produced.
dataset_changed = Signal()


def dataset_changed_send(version: int) -> None:
    """Send once the change is committed (at once outside a transaction)."""
    from .models import DatasetVersion

    transaction.on_commit(lambda: dataset_changed.send(sender=DatasetVersion, version=version))
