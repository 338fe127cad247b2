"""Text without length limits (entity names, reference, mode, classification), and where the
procuring entity sits in its own columns.

A btree entry holds at most ~2,700 bytes, so an unbounded name cannot keep a plain unique
constraint or a btree on UPPER(name): uniqueness moves to md5(name), and on PostgreSQL the
UPPER(name) index becomes a hash index (equality and IN lists only, which is all the chip
filters ask of it). SQLite has no such limit and keeps the btree.
"""

import django.db.models.functions.text
from django.db import migrations, models

ENTITY_TABLES = ("contractor", "organization", "area", "businesscategory")


def hash_upper_name_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in ENTITY_TABLES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {table}_uname")
        schema_editor.execute(f"CREATE INDEX {table}_uname ON contracts_{table} USING hash (UPPER(name))")


def btree_upper_name_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in ENTITY_TABLES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {table}_uname")
        schema_editor.execute(f"CREATE INDEX {table}_uname ON contracts_{table} (UPPER(name))")


class Migration(migrations.Migration):
    dependencies = [
        ("contracts", "0002_trigram_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="contract",
            name="organization_province",
            field=models.TextField(blank=True, default=""),
        ),
        migrations.AddField(
            model_name="contract",
            name="organization_region",
            field=models.TextField(blank=True, default=""),
        ),
        migrations.AlterField(
            model_name="area",
            name="name",
            field=models.TextField(),
        ),
        migrations.AlterField(
            model_name="businesscategory",
            name="name",
            field=models.TextField(),
        ),
        migrations.AlterField(
            model_name="contract",
            name="classification",
            field=models.TextField(blank=True, default=""),
        ),
        migrations.AlterField(
            model_name="contract",
            name="procurement_mode",
            field=models.TextField(blank=True, default=""),
        ),
        migrations.AlterField(
            model_name="contract",
            name="reference_id",
            field=models.TextField(),
        ),
        migrations.AlterField(
            model_name="contractor",
            name="name",
            field=models.TextField(),
        ),
        migrations.AlterField(
            model_name="organization",
            name="name",
            field=models.TextField(),
        ),
        migrations.AddConstraint(
            model_name="area",
            constraint=models.UniqueConstraint(
                django.db.models.functions.text.MD5("name"), name="area_name_md5_key"
            ),
        ),
        migrations.AddConstraint(
            model_name="businesscategory",
            constraint=models.UniqueConstraint(
                django.db.models.functions.text.MD5("name"), name="businesscategory_name_md5_key"
            ),
        ),
        migrations.AddConstraint(
            model_name="contract",
            constraint=models.UniqueConstraint(fields=("reference_id",), name="contract_reference_id_key"),
        ),
        migrations.AddConstraint(
            model_name="contractor",
            constraint=models.UniqueConstraint(
                django.db.models.functions.text.MD5("name"), name="contractor_name_md5_key"
            ),
        ),
        migrations.AddConstraint(
            model_name="organization",
            constraint=models.UniqueConstraint(
                django.db.models.functions.text.MD5("name"), name="organization_name_md5_key"
            ),
        ),
        migrations.RunPython(hash_upper_name_indexes, btree_upper_name_indexes),
    ]
