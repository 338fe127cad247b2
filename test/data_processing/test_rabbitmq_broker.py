"""RabbitMQ as the broker (CELERY_BROKER_URL=amqp://...): jobs run the same way.

Results, cache and websockets stay on Redis; only the task messages go through RabbitMQ.
"""

from __future__ import annotations

import os

import pytest
from django.conf import settings
from job_helpers import point_celery_at, wait_for_state

from data_processing.models import JobState

AMQP_URL = os.environ.get("TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//")

pytestmark = [pytest.mark.integration]


@pytest.fixture
def rabbitmq_worker(live_db, worker_factory):
    """A worker consuming from RabbitMQ, and this process publishing there."""
    worker = worker_factory("rabbitmq-worker", extra_env={"TEST_CELERY_BROKER_URL": AMQP_URL})
    point_celery_at(AMQP_URL)
    yield worker
    point_celery_at(settings.CELERY_BROKER_URL)


def test_jobs_run_through_rabbitmq(alice_client, sample_contracts, rabbitmq_worker):
    for kind, body in (
        ("search", {"filters": {"keywords": ["road"]}}),
        ("export", {"filters": {"areas": ["Cebu"]}}),
    ):
        response = alice_client.post(f"/api/v1/data-processing/tasks/{kind}/", body, format="json")
        assert response.status_code == 202

        wait_for_state(response.json()["task_id"], JobState.SUCCESS)
    assert "amqp://guest:**@127.0.0.1:5672/" in rabbitmq_worker.output()
