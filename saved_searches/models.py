"""A user's saved job request, its beat entry, and the runs that record what changed.

"New since last run" is kept as a watermark, not as a list of ids: a run stores the highest
contract id that existed when it looked, so the contracts it found new are exactly those
that match its filters with an id above the previous run's watermark and up to its own.
That is two integers per run whatever the number of matching rows, and the page of new
rows is one indexed query away. Contract ids only grow (imports and generation insert
new rows), so a contract added between two runs is above the earlier watermark. (The
exception: two imports committing at the same moment, where a row with a lower id can
commit just after a run read a higher one; that row is never reported as new.) An updated
contract keeps its id and is not "new"; a regenerated dataset's rows all are.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django_celery_beat.models import PeriodicTask

from data_processing.models import Job
from data_processing.registry import validate_job_kind


class RunTrigger(models.TextChoices):
    SCHEDULE = "schedule", "Schedule"
    IMPORT = "import", "After an import"
    MANUAL = "manual", "Run now"


class SavedSearch(models.Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="saved_searches",
        db_index=False,  # covered by the unique (owner, name)
    )
    name = models.CharField(max_length=100)
    # A registered job kind (data_processing/registry.py), as the Job model stores it.
    kind = models.CharField(max_length=40, validators=[validate_job_kind])
    # The submit body as given; each run submits it again through the job service.
    request = models.JSONField()
    every_seconds = models.PositiveIntegerField(null=True, blank=True)
    crontab = models.CharField(max_length=100, blank=True, default="")
    run_after_import = models.BooleanField(default=False)
    # Beat's entry (django-celery-beat); none when the search has no interval or crontab.
    periodic_task = models.OneToOneField(
        PeriodicTask, null=True, blank=True, on_delete=models.SET_NULL, related_name="saved_search"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name_plural = "saved searches"
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="one_saved_search_name_per_user")
        ]
        indexes = [
            models.Index(
                fields=["owner"], condition=models.Q(run_after_import=True), name="saved_search_after_import"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.kind}, user {self.owner_id})"


class SavedSearchRun(models.Model):
    saved_search = models.ForeignKey(
        SavedSearch,
        on_delete=models.CASCADE,
        related_name="runs",
        db_index=False,  # covered by saved_search_run_latest
    )
    # The ordinary job the run submitted (or joined, or was answered by from the cache).
    job = models.ForeignKey(
        Job, null=True, blank=True, on_delete=models.SET_NULL, related_name="saved_search_runs"
    )
    trigger = models.CharField(max_length=10, choices=RunTrigger.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    # Highest contract id when this run looked, and the previous run's (None on a first run).
    contract_watermark = models.BigIntegerField()
    since_watermark = models.BigIntegerField(null=True, blank=True)
    matched_count = models.BigIntegerField()
    total_amount = models.DecimalField(max_digits=20, decimal_places=2)
    new_count = models.BigIntegerField(default=0)
    # Against the previous run; None on a first run.
    count_change = models.BigIntegerField(null=True, blank=True)
    total_change = models.DecimalField(max_digits=20, decimal_places=2, null=True, blank=True)
    # The broker message that fired this run (its Celery task id; empty for a run started
    # outside a worker). A message delivered again is the same firing and records no second run.
    firing = models.CharField(max_length=255, blank=True, default="")

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["saved_search", "-id"], name="saved_search_run_latest")]
        constraints = [
            models.UniqueConstraint(
                fields=["saved_search", "firing"],
                condition=~models.Q(firing=""),
                name="saved_search_run_firing_once",
            )
        ]

    def __str__(self) -> str:
        return f"run {self.id} of saved search {self.saved_search_id} ({self.new_count} new)"
