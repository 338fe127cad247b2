"""A run remembers the broker message that fired it, once per saved search, so a message
delivered twice records one run."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("saved_searches", "0002_drop_covered_foreign_key_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="savedsearchrun",
            name="firing",
            field=models.CharField(blank=True, default="", max_length=255),
        ),
        migrations.AddConstraint(
            model_name="savedsearchrun",
            constraint=models.UniqueConstraint(
                condition=models.Q(("firing", ""), _negated=True),
                fields=("saved_search", "firing"),
                name="saved_search_run_firing_once",
            ),
        ),
    ]
