"""The job owner's own index goes: ``job_owner_created`` (owner, created_at) serves every
look-up by owner, and each index is one more entry to write at every job's insert and at
every state change (a state change is never a HOT update: ``state`` is indexed).

Only the index is dropped. Django's own ``AlterField`` would also drop and re-add the
foreign key, which re-checks every job row under a lock; the constraint is unchanged.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

INDEX = "data_processing_job_owner_id_df0a416d"  # the same name on PostgreSQL and SQLite


class Migration(migrations.Migration):
    dependencies = [
        ("data_processing", "0002_job_kind_from_registry"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="job",
                    name="owner",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="jobs",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX IF EXISTS "{INDEX}"',
                    f'CREATE INDEX "{INDEX}" ON "data_processing_job" ("owner_id")',
                ),
            ],
        ),
    ]
