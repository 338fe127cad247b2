"""Two foreign keys' own indexes go, each covered by a composite that leads with its column:
the owner's by the unique (owner, name), the saved search's by ``saved_search_run_latest``.

Only the indexes are dropped; Django's own ``AlterField`` would also drop and re-add each
foreign key, which re-checks every row under a lock.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

# The same names on PostgreSQL and SQLite.
OWNER_INDEX = ("saved_searches_savedsearch", "owner_id", "saved_searches_savedsearch_owner_id_5da5f62c")
RUN_INDEX = (
    "saved_searches_savedsearchrun",
    "saved_search_id",
    "saved_searches_savedsearchrun_saved_search_id_8cfd41de",
)


def drop_index(table: str, column: str, name: str) -> migrations.RunSQL:
    return migrations.RunSQL(f'DROP INDEX IF EXISTS "{name}"', f'CREATE INDEX "{name}" ON "{table}" ("{column}")')


class Migration(migrations.Migration):
    dependencies = [
        ("saved_searches", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="savedsearch",
                    name="owner",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="saved_searches",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                migrations.AlterField(
                    model_name="savedsearchrun",
                    name="saved_search",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="runs",
                        to="saved_searches.savedsearch",
                    ),
                ),
            ],
            database_operations=[drop_index(*OWNER_INDEX), drop_index(*RUN_INDEX)],
        ),
    ]
