from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.signals import connection_created
from django.db.backends.sqlite3.base import DatabaseWrapper as SQLiteDatabaseWrapper
from django.db.models.signals import post_migrate

from .unicode_upper import install_on_sqlite


class ContractsConfig(AppConfig):
    name = "contracts"
    verbose_name = "PhilGEPS contracts"

    def ready(self) -> None:
        from . import openapi  # noqa: F401  (registers the OpenAPI extensions of request bodies)
        from .selectors.time_ranges import time_ranges_forget_all  # imports the models
        from .signals import dataset_line_started

        post_migrate.connect(_repair_after_migrate, sender=self)
        dataset_line_started.connect(time_ranges_forget_all, dispatch_uid="contracts.time_ranges_forget_all")
        connection_created.connect(
            install_on_sqlite, sender=SQLiteDatabaseWrapper, dispatch_uid="contracts.unicode_upper"
        )


def _repair_after_migrate(using: str = DEFAULT_DB_ALIAS, **kwargs: Any) -> None:
    """Every start-up migrates (`make run`, the compose migrate service): build there what a
    killed bulk import left dropped. One query when nothing is missing."""
    from .indexes import repair_dropped_indexes  # imports the models
    from .models import DroppedIndex

    if using != DEFAULT_DB_ALIAS:
        return
    if DroppedIndex._meta.db_table in connections[using].introspection.table_names():  # not migrated back
        repair_dropped_indexes()
