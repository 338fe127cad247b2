"""Test settings: real PostgreSQL, Redis, channel layer and workers (see STYLE.md, Tests)."""

import os
from pathlib import Path

# Before base reads it: the test process and the workers and servers it starts share one
# metrics directory, as the processes of a deployment do.
os.environ.setdefault("METRICS_DIRECTORY", str(Path(__file__).resolve().parents[2] / "var" / "test-metrics"))

from .base import *  # noqa: F403
from .base import CACHE_OPTIONS, DATABASES, env, statement_timeout_option

SECRET_KEY = "test-only-secret-key"  # noqa: S105 - tests only
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Tests run against PostgreSQL; the SQLite default is for `make run` only.
DATABASES["default"] = env.db("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/test")
DATABASES["default"]["TEST"] = {"NAME": env("TEST_DATABASE_NAME", default="test_philgeps")}
# Each test runs in a transaction that a worker in another process cannot see through a
# pool; integration tests use transactional_db, so plain connections are simpler here.
DATABASES["default"]["CONN_MAX_AGE"] = 0
# As in production, but roomier: creating and dropping the test database share these settings.
DATABASE_STATEMENT_TIMEOUT = env.float("DATABASE_STATEMENT_TIMEOUT", default=120.0)
DATABASES["default"]["OPTIONS"] = {"options": statement_timeout_option(DATABASE_STATEMENT_TIMEOUT)}
# A server subprocess under load (the burst tests) pools its connections as production does,
# instead of opening one per request thread.
if env.bool("TEST_DATABASE_POOL", default=False):
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": 1,
        "max_size": env.int("DATABASE_POOL_MAX_SIZE", default=20),
        "timeout": 10,
    }
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

# Tests get their own Redis database and channel prefix, so a `make run` stack on the same
# Redis is not disturbed (pub/sub ignores database numbers, hence the prefix).
REDIS_URL = env("TEST_REDIS_URL", default="redis://127.0.0.1:6379/14")
CACHES = {
    "default": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": REDIS_URL, "OPTIONS": CACHE_OPTIONS}
}
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
        "CONFIG": {"hosts": [REDIS_URL], "prefix": env("TEST_CHANNEL_PREFIX", default="philgeps-test")},
    }
}
CELERY_BROKER_URL = env("TEST_CELERY_BROKER_URL", default=REDIS_URL)
CELERY_RESULT_BACKEND = REDIS_URL
JOB_PROGRESS_MIN_INTERVAL = 0.05
JOB_RETRY_BACKOFF_SECONDS = 0.5
SAVED_SEARCH_MIN_INTERVAL_SECONDS = 1
SAVED_SEARCH_IMPORT_SPACING_SECONDS = 0.2
METRICS_TOKEN = "test-metrics-token"  # noqa: S105 - tests only
MEDIA_ROOT = BASE_DIR / "var" / "test-media"  # noqa: F405
STATIC_ROOT = None  # as in local settings: served from the apps, never collected
# Job kinds declared by a test module (dotted paths to a JobKindSpec), so the worker and
# server processes a test starts know a kind that exists only in the tests.
EXTRA_JOB_KINDS = env.list("TEST_EXTRA_JOB_KINDS", default=[])
# Tests build data with factories that do not bump the dataset version, so the database
# answers; the columnar tests switch the engine on with their own snapshot directory.
COLUMNAR_ENABLED = False
COLUMNAR_DIR = MEDIA_ROOT / "columnar"
# Builds after commit happen in the committing process: tests see the snapshot at once.
COLUMNAR_BUILD_IN_WORKER = False
# A bulk import returns with every index built: tests compare the table's structure at once
# (test/contracts/test_deferred_index.py covers the deferred build).
IMPORT_TRIGRAM_INDEX = "inline"
