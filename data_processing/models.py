"""The job registry: the durable source of truth for every asynchronous job.

Celery's result store answers PENDING for ids it never saw and forgets everything on a
Redis restart; this table does neither. A job's id is also its Celery task id.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from .registry import validate_job_kind


class JobState(models.TextChoices):
    """Celery's state names, so clients of either speak the same language."""

    PENDING = "PENDING"
    STARTED = "STARTED"
    PROGRESS = "PROGRESS"
    RETRY = "RETRY"
    SUCCESS = "SUCCESS"
    FAILURE = "FAILURE"
    REVOKED = "REVOKED"


ACTIVE_STATES = (JobState.PENDING, JobState.STARTED, JobState.PROGRESS, JobState.RETRY)
RUNNING_STATES = (JobState.STARTED, JobState.PROGRESS)


class Job(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="jobs",
        db_index=False,  # covered by job_owner_created; one index less to write per transition
    )
    # A registered job kind (``registry.py``): not DB choices, so a new kind needs no migration.
    kind = models.CharField(max_length=40, validators=[validate_job_kind])
    # The validated request body; the task parses it again with the same serializer.
    params = models.JSONField()
    cache_key = models.CharField(max_length=100)
    # Hash of the request alone (no dataset version), to compare Idempotency-Key replays.
    fingerprint = models.CharField(max_length=64)
    # NULL, not "", when absent: the unique constraint below must ignore jobs without a key.
    idempotency_key = models.CharField(max_length=200, null=True, blank=True)  # noqa: DJ001
    state = models.CharField(max_length=10, choices=JobState.choices, default=JobState.PENDING)
    progress = models.PositiveSmallIntegerField(default=0)
    message = models.CharField(max_length=255, blank=True, default="")
    error = models.TextField(blank=True, default="")
    attempts = models.PositiveSmallIntegerField(default=0)
    result_file = models.CharField(max_length=255, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    # Touched by every state or progress change: how the sweeper tells a lost job.
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["owner", "-created_at"], name="job_owner_created"),
            models.Index(fields=["state", "updated_at"], name="job_state_updated"),
            models.Index(fields=["kind", "state", "-completed_at"], name="job_kind_completed"),
        ]
        constraints = [
            # At most one queued or running job per user and request: a concurrent identical
            # submission loses the insert race and joins the existing job instead.
            models.UniqueConstraint(
                fields=["owner", "cache_key"],
                condition=Q(state__in=ACTIVE_STATES),
                name="one_active_job_per_request",
            ),
            models.UniqueConstraint(
                fields=["owner", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="one_job_per_idempotency_key",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} job {self.id} ({self.state})"
