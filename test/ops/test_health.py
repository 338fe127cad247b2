"""GET /api/v1/health/: public, bounded in time, 503 when any dependency is down, and silent
about hostnames, URLs and versions."""

from __future__ import annotations

import time

import pytest
from django.test import override_settings
from job_helpers import wait_until
from kombu import Exchange

from config.celery_app import app as celery_app
from data_processing.health import clear_worker_count_cache

HEALTH_URL = "/api/v1/health/"
# A dead port on the loopback: connections are refused at once.
DEAD_REDIS = "redis://127.0.0.1:1/0"
SECRETS = ("redis://", "amqp://", "postgres", "127.0.0.1", "localhost", "6379", "5432", "password")


@pytest.fixture(autouse=True)
def _fresh_worker_count():
    clear_worker_count_cache()
    yield
    clear_worker_count_cache()


@pytest.fixture
def worker_answering(celery_worker_process) -> None:
    """The session worker, once it answers pings (it says "ready" a moment before it does)."""
    wait_until(lambda: celery_app.control.ping(timeout=0.5), timeout=30, what="the worker to answer a ping")


def assert_reveals_nothing(text: str) -> None:
    for word in SECRETS:
        assert word not in text.lower(), f"health body reveals {word!r}: {text}"


@pytest.mark.integration
@pytest.mark.usefixtures("worker_answering")
def test_it_reports_every_check_ok_to_an_anonymous_caller(db, anon_client):
    response = anon_client.get(HEALTH_URL)

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "redis", "broker", "workers"}
    assert all(check["ok"] for check in body["checks"].values())
    assert body["checks"]["workers"]["count"] >= 1
    assert body["checks"]["database"]["latency_ms"] >= 0
    assert response["Cache-Control"] == "no-store"
    assert_reveals_nothing(response.content.decode())


@pytest.mark.integration
@pytest.mark.usefixtures("worker_answering")
def test_it_caches_the_worker_count_so_polls_do_not_flood_the_broker(db, anon_client):
    first = anon_client.get(HEALTH_URL).json()["checks"]["workers"]
    assert first["ok"] is True
    started = time.monotonic()
    second = anon_client.get(HEALTH_URL).json()["checks"]["workers"]

    # A fresh ping waits its whole one-second timeout for replies; a cached count does not.
    assert time.monotonic() - started < 0.9
    assert second == first


def test_it_answers_503_naming_redis_when_redis_is_down(db, anon_client):
    with override_settings(REDIS_URL=DEAD_REDIS):
        started = time.monotonic()
        response = anon_client.get(HEALTH_URL)

    assert time.monotonic() - started < 3
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "degraded"
    assert body["checks"]["redis"] == {"ok": False, "error": "unavailable"}
    assert body["checks"]["database"]["ok"] is True
    assert_reveals_nothing(response.content.decode())


def test_it_answers_503_when_the_broker_is_down(db, anon_client, monkeypatch):
    # Build the shared producer pool on the real broker first, so only this check sees the
    # dead one (Celery reads CELERY_BROKER_WRITE_URL for every new write connection).
    assert celery_app.pool is not None
    monkeypatch.setenv("CELERY_BROKER_WRITE_URL", DEAD_REDIS)

    response = anon_client.get(HEALTH_URL)

    assert response.status_code == 503
    assert response.json()["checks"]["broker"] == {"ok": False, "error": "unavailable"}
    assert_reveals_nothing(response.content.decode())


def test_it_counts_zero_workers_as_down(db, anon_client, monkeypatch):
    # Ping on a control exchange no worker listens on: the broadcast goes out, nobody answers.
    mailbox = celery_app.control.mailbox
    monkeypatch.setattr(mailbox, "exchange", Exchange("nobody-listens.pidbox", type="fanout", durable=False))

    response = anon_client.get(HEALTH_URL)

    assert response.status_code == 503
    workers = response.json()["checks"]["workers"]
    assert workers["ok"] is False
    assert workers["count"] == 0
    assert workers["error"] == "no workers"


def test_it_is_in_the_openapi_schema_without_authentication(db, anon_client):
    schema = anon_client.get("/api/v1/schema/", {"format": "json"})

    assert schema.status_code == 200
    operation = schema.json()["paths"][HEALTH_URL]["get"]
    assert "security" not in operation
    assert set(operation["responses"]) == {"200", "503"}
