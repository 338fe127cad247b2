"""GET /api/v1/health/: public, bounded in time, 503 when any dependency is down, and silent
about hostnames, URLs and versions."""

from __future__ import annotations

import time

import pytest
from django.test import override_settings
from job_helpers import wait_until
from kombu import Exchange

from config.celery_app import app as celery_app
from data_processing.health import clear_health_cache

HEALTH_URL = "/api/v1/health/"
# A dead port on the loopback: connections are refused at once.
DEAD_REDIS = "redis://127.0.0.1:1/0"
SECRETS = ("redis://", "amqp://", "postgres", "127.0.0.1", "localhost", "6379", "5432", "password")


@pytest.fixture(autouse=True)
def _fresh_worker_count():
    clear_health_cache()
    yield
    clear_health_cache()


@pytest.fixture
def worker_answering(celery_worker_process) -> None:
    """The session worker, once it answers pings (it says "ready" a moment before it does)."""
    wait_until(lambda: celery_app.control.ping(timeout=0.5), timeout=30, what="the worker to answer a ping")


def assert_reveals_nothing(text: str) -> None:
    for word in SECRETS:
        assert word not in text.lower(), f"health body reveals {word!r}: {text}"


@pytest.mark.integration
@pytest.mark.usefixtures("worker_answering")
def test_it_reports_every_check_ok_to_an_anonymous_caller_without_details(db, anon_client):
    response = anon_client.get(HEALTH_URL)

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"] == {name: {"ok": True} for name in ("database", "redis", "broker", "workers")}
    assert response["Cache-Control"] == "no-store"
    assert_reveals_nothing(response.content.decode())


@pytest.mark.integration
@pytest.mark.usefixtures("worker_answering")
def test_staff_see_latencies_and_the_worker_count(db, anon_client, admin_user):
    anon_client.force_login(admin_user)
    body = anon_client.get(HEALTH_URL).json()

    assert body["checks"]["workers"]["count"] >= 1
    assert body["checks"]["database"]["latency_ms"] >= 0
    assert_reveals_nothing(str(body))


def test_one_report_serves_every_caller_for_a_while(db, anon_client, settings):
    settings.HEALTH_CACHE_SECONDS = 60
    first = anon_client.get(HEALTH_URL)
    started = time.monotonic()
    answers = [anon_client.get(HEALTH_URL) for _ in range(20)]

    assert time.monotonic() - started < 1  # no check ran again (a worker ping alone waits 1 s)
    assert {answer.status_code for answer in answers} == {first.status_code}
    assert {answer.content for answer in answers} == {first.content}


@pytest.mark.integration
@pytest.mark.usefixtures("worker_answering")
def test_it_caches_the_worker_count_so_polls_do_not_flood_the_broker(db, anon_client, settings):
    settings.HEALTH_CACHE_SECONDS = 0  # the report is measured each time; the count is not
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
    assert response.json()["checks"]["workers"] == {"ok": False, "error": "no workers"}


def test_it_is_in_the_openapi_schema_without_authentication(db, anon_client):
    schema = anon_client.get("/api/v1/schema/", {"format": "json"})

    assert schema.status_code == 200
    operation = schema.json()["paths"][HEALTH_URL]["get"]
    assert {} in operation.get("security", [{}])  # no credentials needed
    assert set(operation["responses"]) == {"200", "503"}
