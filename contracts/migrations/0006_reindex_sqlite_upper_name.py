"""Rebuild SQLite's UPPER(name) indexes with the Unicode-aware UPPER (contracts/unicode_upper.py).

The indexes were filled by SQLite's built-in UPPER, which leaves every letter outside A-Z as
it is; the function that replaces it on every connection upper-cases "ñ" too, so entries
built before it would not be found. PostgreSQL's UPPER was right all along: nothing to do.
"""

from django.db import migrations

ENTITY_TABLES = ("contractor", "organization", "area", "businesscategory")


def reindex_upper_name_on_sqlite(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    for table in ENTITY_TABLES:
        schema_editor.execute(f"REINDEX {table}_uname")


class Migration(migrations.Migration):
    dependencies = [
        ("contracts", "0005_dropped_index"),
    ]

    operations = [
        migrations.RunPython(reindex_upper_name_on_sqlite, migrations.RunPython.noop, elidable=True),
    ]
