"""Pure pieces shared by every endpoint: the error shape, token caching, log redaction,
progress arithmetic and cache keys."""

from __future__ import annotations

import datetime as dt
import sqlite3

import psycopg
import psycopg_pool
import pytest
from django.db import IntegrityError, InterfaceError, OperationalError, connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token

from config.authentication import clear_token_cache, user_for_token
from config.errors import api_exception_handler, flatten_errors
from config.logging_filters import redact
from contracts.filters import ContractFilters, DateRange
from data_processing.cache_keys import cache_key_for, fingerprint_for
from data_processing.progress import percent_done


def test_nested_errors_flatten_to_dotted_paths():
    detail = {
        "filters": {
            "page_size": ["Too big."],
            "time_ranges": {0: {"start": ["Bad date."]}},
            "non_field_errors": ["Inconsistent."],
        },
        "entity_type": ["Unknown."],
    }
    assert flatten_errors(detail) == {
        "filters.page_size": ["Too big."],
        "filters.time_ranges.0.start": ["Bad date."],
        "filters": ["Inconsistent."],
        "entity_type": ["Unknown."],
    }


def test_a_token_is_looked_up_once_then_served_from_the_cache(alice):
    clear_token_cache()
    with CaptureQueriesContext(connection) as first:
        assert user_for_token(alice.auth_token.key) == alice
    with CaptureQueriesContext(connection) as second:
        assert user_for_token(alice.auth_token.key) == alice
    assert len(first) == 1
    assert len(second) == 0


def test_an_unknown_or_inactive_token_is_refused(alice):
    clear_token_cache()
    assert user_for_token("nope") is None
    alice.is_active = False
    alice.save()
    assert user_for_token(Token.objects.get(user=alice).key) is None


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("GET /ws/tasks/status/?token=abc123 HTTP/1.1", "GET /ws/tasks/status/?token=[redacted] HTTP/1.1"),
        ("/x?a=1&token=abc&b=2", "/x?a=1&token=[redacted]&b=2"),
        ("/x?password=hunter2", "/x?password=[redacted]"),
        ("/x?tokens_total=3", "/x?tokens_total=3"),
    ],
)
def test_secrets_in_query_strings_are_masked(line, expected):
    assert redact(line) == expected


@pytest.mark.parametrize(
    ("done", "total", "percent"), [(0, 10, 0), (5, 10, 50), (10, 10, 99), (3, 0, 0), (11, 10, 99)]
)
def test_progress_is_capped_below_100_until_success(done, total, percent):
    assert percent_done(done, total) == percent


def test_equivalent_requests_share_a_cache_key_and_a_new_dataset_version_does_not():
    one = ContractFilters(areas=("Metro Manila", "Cebu"), keywords=("Road",))
    same = ContractFilters(areas=(" cebu ", "METRO  MANILA", "Cebu"), keywords=("road",))
    other = ContractFilters(
        areas=("Cebu",), time_ranges=(DateRange(dt.date(2023, 1, 1), dt.date(2023, 12, 31)),)
    )

    def key(filters: ContractFilters, version: int = 1) -> str:
        return cache_key_for("search", fingerprint_for("search", {"filters": filters.canonical()}), version)

    assert key(one) == key(same)
    assert key(one) != key(other)
    assert key(one) != key(one, version=2)
    assert key(one).startswith("search:") and len(key(one)) == len("search:") + 32
    region = ContractFilters(areas=("Cebu",), organization_regions=("Region VII",))
    assert key(region) == key(ContractFilters(areas=("cebu",), organization_regions=(" region  vii",)))
    assert key(region) != key(ContractFilters(areas=("Cebu",), organization_provinces=("Region VII",)))
    assert key(region) != key(ContractFilters(areas=("Cebu",)))


def test_filters_without_place_chips_keep_their_canonical_form():
    """Cache keys and saved searches made before the place chips existed still match."""
    assert set(ContractFilters(areas=("Cebu",)).canonical()) == {
        "contractors", "areas", "organizations", "business_categories",
        "keywords", "time_ranges", "min_amount", "max_amount",
    }  # fmt: skip
    chosen = ContractFilters(organization_provinces=("cebu ",)).canonical()
    assert chosen["organization_provinces"] == ["CEBU"]


def _wrapped(cause: Exception, wrapper: type[Exception]) -> Exception:
    """A database error as Django raises it: its own class, psycopg's (or sqlite's) as the cause."""
    error = wrapper(str(cause))
    error.__cause__ = cause
    return error


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (
            _wrapped(psycopg.OperationalError("connection refused"), OperationalError),
            503,
            "service_unavailable",
        ),
        (
            _wrapped(psycopg_pool.PoolTimeout("no connection after 10 s"), OperationalError),
            503,
            "service_unavailable",
        ),
        (_wrapped(psycopg.errors.AdminShutdown("terminating"), OperationalError), 503, "service_unavailable"),
        (
            _wrapped(psycopg.InterfaceError("the connection is closed"), InterfaceError),
            503,
            "service_unavailable",
        ),
        (_wrapped(psycopg.errors.QueryCanceled("statement timeout"), OperationalError), 422, "query_timeout"),
        (_wrapped(psycopg.errors.DeadlockDetected("deadlock"), OperationalError), 500, "server_error"),
        (_wrapped(psycopg.errors.UniqueViolation("duplicate"), IntegrityError), 500, "server_error"),
        (_wrapped(sqlite3.OperationalError("no such table: x"), OperationalError), 500, "server_error"),
    ],
    ids=["refused", "pool timeout", "shutdown", "closed", "timeout", "deadlock", "unique", "sqlite"],
)
def test_a_database_outage_is_a_503_to_retry_and_a_failed_query_is_not(error, status, code):
    response = api_exception_handler(error, {"view": None})

    assert (response.status_code, response.data["code"]) == (status, code)
    assert ("Retry-After" in response.headers) == (status == 503)
