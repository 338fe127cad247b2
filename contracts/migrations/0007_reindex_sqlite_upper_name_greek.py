"""Rebuild SQLite's UPPER(name) indexes once more, as 0006 did.

The UPPER that replaces SQLite's on every connection (contracts/unicode_upper.py) now maps
the 27 Greek letters with a subscript iota ("ᾳ") to their one-letter upper case, as
PostgreSQL does, where it had left them as they were; an entry built before would not be
found. PostgreSQL: nothing to do.
"""

from importlib import import_module

from django.db import migrations

reindex_upper_name_on_sqlite = import_module(
    "contracts.migrations.0006_reindex_sqlite_upper_name"
).reindex_upper_name_on_sqlite


class Migration(migrations.Migration):
    dependencies = [
        ("contracts", "0006_reindex_sqlite_upper_name"),
    ]

    operations = [
        migrations.RunPython(reindex_upper_name_on_sqlite, migrations.RunPython.noop, elidable=True),
    ]
