"""Trigram indexes for substring search, on PostgreSQL only (SQLite has no equivalent).

Keyword chips and autocomplete match with UPPER(col) LIKE '%TERM%', which a btree cannot
serve; a GIN trigram index on the same expression can.
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

TRIGRAM_INDEXES = {
    "contract_title_trgm": ("contracts_contract", "title"),
    "contractor_trgm": ("contracts_contractor", "name"),
    "organization_trgm": ("contracts_organization", "name"),
    "area_trgm": ("contracts_area", "name"),
    "businesscategory_trgm": ("contracts_businesscategory", "name"),
}


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, (table, column) in TRIGRAM_INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin (UPPER({column}) gin_trgm_ops)"
        )


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in TRIGRAM_INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("contracts", "0001_initial")]

    operations = [
        TrigramExtension(),
        migrations.RunPython(create_indexes, drop_indexes),
    ]
