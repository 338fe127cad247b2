"""When the dataset-version row began: the line of versions a columnar snapshot belongs to.

A database recreated (or flushed) starts counting versions again; snapshot files named after
this moment are never mistaken for an older version of the new data.
"""

import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("contracts", "0003_unbounded_text_and_organization_location")]

    operations = [
        migrations.AddField(
            model_name="datasetversion",
            name="created_at",
            field=models.DateTimeField(default=django.utils.timezone.now, editable=False),
        ),
    ]
