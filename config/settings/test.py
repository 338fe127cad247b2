"""Test settings: real PostgreSQL, Redis, channel layer and workers (see STYLE.md, Tests)."""

from .base import *  # noqa: F403
from .base import DATABASES, env

SECRET_KEY = "test-only-secret-key"  # noqa: S105 - tests only
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Tests run against PostgreSQL; the SQLite default is for `make run` only.
DATABASES["default"] = env.db("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/test")
DATABASES["default"]["TEST"] = {"NAME": env("TEST_DATABASE_NAME", default="test_philgeps")}
# Each test runs in a transaction that a worker in another process cannot see through a
# pool; integration tests use transactional_db, so plain connections are simpler here.
DATABASES["default"]["CONN_MAX_AGE"] = 0
