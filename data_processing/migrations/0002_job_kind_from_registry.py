"""Job kinds come from the registry (no DB choices), and the entity table gets its one name."""

from django.db import migrations, models

import data_processing.registry


def rename_kind(old: str, new: str):
    def rename(apps, schema_editor):
        apps.get_model("data_processing", "Job").objects.filter(kind=old).update(kind=new)

    return rename


class Migration(migrations.Migration):
    dependencies = [
        ("data_processing", "0001_initial"),
    ]

    operations = [
        migrations.AlterField(
            model_name="job",
            name="kind",
            field=models.CharField(max_length=40, validators=[data_processing.registry.validate_job_kind]),
        ),
        migrations.RunPython(
            rename_kind("analytics_table", "entity_table"), rename_kind("entity_table", "analytics_table")
        ),
    ]
