"""``dataset_changed``: sent once an import or a generation has committed new contract data.
``dataset_line_started``: sent once a database's first dataset version has committed.

Contracts knows nothing of what listens (saved searches re-run, result caches forget); the
importer and the generator call ``dataset_changed_send`` right after bumping the dataset
version, and the bump itself sends ``dataset_line_started`` when it created the version row.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.dispatch import Signal

logger = logging.getLogger(__name__)

# Receivers get ``version``: the dataset version the change produced.
dataset_changed = Signal()


# A new line of versions: the version row was created (a new, recreated or flushed
# database), so its versions count from the start again. Whatever was cached under a version
# number alone, in a cache that outlived the old database (`make clean` with the same Redis),
# may be another database's answer under the same number: receivers forget it.
dataset_line_started = Signal()


def dataset_line_started_send() -> None:
    """Send once the new version row is committed (at once outside a transaction). A
    receiver that fails (Redis down) is logged and does not fail the import that bumped."""
    from .models import DatasetVersion

    def send() -> None:
        for receiver, outcome in dataset_line_started.send_robust(sender=DatasetVersion):
            if isinstance(outcome, Exception):
                name, failure = receiver.__qualname__, type(outcome).__name__
                logger.warning("A new line of dataset versions: %s failed (%s)", name, failure)

    transaction.on_commit(send)


def dataset_changed_send(version: int) -> None:
    """Send once the change is committed (at once outside a transaction)."""
    from .models import DatasetVersion

    transaction.on_commit(lambda: dataset_changed.send(sender=DatasetVersion, version=version))
