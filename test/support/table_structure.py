"""What the bulk-load path drops and rebuilds: the contract table's indexes and constraints."""

from __future__ import annotations

from django.db import connection

from contracts.models import Contract


def contract_table_structure() -> set[tuple[str, str]]:
    """The contract table's indexes and constraints, each with its definition."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s "
            "UNION ALL SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = %s::regclass",
            [Contract._meta.db_table] * 2,
        )
        return set(cursor.fetchall())
