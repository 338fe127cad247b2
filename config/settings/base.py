"""Settings shared by every environment; each value comes from the environment (12-factor).

Every variable read here is documented in `.env.example`.
"""

import os
import socket
from decimal import Decimal
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parents[2]

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    env.read_env(str(BASE_DIR / ".env"))

# --- Core -------------------------------------------------------------------------------
# Development only; production settings refuse to start with it.
DEV_SECRET_KEY = "dev-insecure-secret-key-change-me"  # noqa: S105
SECRET_KEY = env("DJANGO_SECRET_KEY", default=DEV_SECRET_KEY)
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI and Redoc served from our static files, not a CDN
    "corsheaders",
    "channels",
    "django_celery_beat",
    "contracts",
    "data_processing",
    "saved_searches",
    "dashboard",
]

# Django's middleware, in subclasses that run their hooks on the event loop under ASGI
# instead of a thread per hook (config/middleware.py): the largest per-request cost.
MIDDLEWARE = [
    "config.middleware.SecurityMiddleware",
    "config.static_files.AsyncWhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "config.middleware.SessionMiddleware",
    "config.middleware.CommonMiddleware",
    "config.middleware.CsrfViewMiddleware",
    "config.middleware.AuthenticationMiddleware",
    "config.middleware.MessageMiddleware",
    "config.middleware.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"
# Each HTTP request's synchronous work runs on a thread kept between requests
# (config/asgi_handler.py); off gives Django's own handler, a new thread per request.
ASGI_REUSE_REQUEST_THREADS = env.bool("ASGI_REUSE_REQUEST_THREADS", default=True)

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "Asia/Manila"
USE_I18N = True
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
WHITENOISE_USE_FINDERS = True  # serve app static files under uvicorn without collectstatic
MEDIA_ROOT = Path(env("MEDIA_ROOT", default=str(BASE_DIR / "var")))

# Largest request body read (JSON API, forms): past it the answer is 413. The API's bodies
# are chip lists, a few kilobytes; Django's default (2.5 MB) is far more than any needs.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("API_MAX_BODY_BYTES", default=1_048_576)

# --- Database -----------------------------------------------------------------------------

# Seconds a query made while answering a request may run (PostgreSQL statement_timeout).
DATABASE_STATEMENT_TIMEOUT = env.float("DATABASE_STATEMENT_TIMEOUT", default=30.0)


def statement_timeout_option(seconds: float) -> str:
    """libpq ``options`` that make PostgreSQL cancel any statement running longer than ``seconds``."""
    return f"-c statement_timeout={int(seconds * 1000)}"


# SQLite is only the zero-setup default of `make run`; production and tests use PostgreSQL.
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Under ASGI every request runs in a fresh thread, so per-thread persistent connections
    # would reconnect on every request; a shared psycopg pool does not.
    # https://docs.djangoproject.com/en/5.2/ref/databases/#connection-pool
    if env.bool("DATABASE_POOL", default=True):
        DATABASES["default"]["CONN_MAX_AGE"] = 0
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": env.int("DATABASE_POOL_MIN_SIZE", default=2),
            "max_size": env.int("DATABASE_POOL_MAX_SIZE", default=20),
            "timeout": 10,
        }
        # The pool checks a connection (an empty query) before lending it: after a database
        # restart its idle connections are dead, and each would fail one request with a 500.
        DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # Request-time queries give up after this long (a 422 that says to narrow the chips or use
    # async_mode); a job's queries get the job's soft time limit instead (data_processing/tasks.py).
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = statement_timeout_option(
        DATABASE_STATEMENT_TIMEOUT
    )
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Worker, web server and beat share the file: wait for locks instead of failing at once.
    # - A transaction takes the write lock when it begins (BEGIN IMMEDIATE): begun deferred,
    #   two that read and then write (a submit counts the owner's jobs, then inserts) deadlock
    #   on the upgrade, and SQLite fails one at once with "database is locked".
    # - Write-ahead logging: readers and the writer never wait for each other. With SQLite's
    #   default rollback journal a commit waits for every reader to finish, so one long read
    #   (an export streaming its rows) held up every write in every process until each gave
    #   up after the timeout (500s, and beat exiting, which stops `make run`).
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        timeout=20, transaction_mode="IMMEDIATE", init_command="PRAGMA journal_mode=WAL"
    )

# --- Redis: cache, results, channel layer ---------------------------------------------------
REDIS_URL = env("REDIS_URL", default="redis://127.0.0.1:6379/0")
# django-redis rather than Django's own RedisCache: Django keeps one cache object per thread,
# and under ASGI every request runs in a new thread, so the built-in backend opened a new
# Redis connection pool per request (measured: connected_clients climbing with every
# request, and submit capped near 100 req/s under uvicorn). django-redis shares one pool
# per process whatever the thread.
# One bounded pool per process, and a burst waits for a free connection instead of failing:
# redis-py's default pool raises MaxConnectionsError past 100 connections, which turned a
# burst of 200 submits into 64 server errors. The web server's threads are what bound
# concurrency, so a pool as large as the threads that can use it never makes anyone wait long.
REDIS_POOL_MAX_CONNECTIONS = env.int("REDIS_POOL_MAX_CONNECTIONS", default=50)
REDIS_POOL_TIMEOUT = env.float("REDIS_POOL_TIMEOUT", default=10.0)
CACHE_OPTIONS = {
    "CONNECTION_POOL_CLASS": "redis.BlockingConnectionPool",
    "CONNECTION_POOL_KWARGS": {
        "max_connections": REDIS_POOL_MAX_CONNECTIONS,
        "timeout": REDIS_POOL_TIMEOUT,
        # A connection left stale by a Redis restart is noticed and replaced, not reported.
        "health_check_interval": 30,
        "retry_on_timeout": True,
    },
    "SOCKET_CONNECT_TIMEOUT": 2,
    "SOCKET_TIMEOUT": 5,
}
CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "django",
        "OPTIONS": CACHE_OPTIONS,
    }
}
# How long Celery keeps a task's own result; only the maintenance tasks store one.
CELERY_RESULT_EXPIRES = env.int("CELERY_RESULT_EXPIRES", default=1800)
# How long a job's result stays in the cache; the job record itself lives on.
RESULT_CACHE_TIMEOUT = env.int("RESULT_CACHE_TIMEOUT", default=CELERY_RESULT_EXPIRES)

CHANNEL_LAYERS = {
    "default": {
        # The pub/sub layer delivers a group message to a websocket in ~0.75 ms against
        # ~2.0 ms for the list-based RedisChannelLayer, measured on 2-core machines.
        "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
        # Pub/sub channels ignore Redis database numbers: two deployments on one Redis server
        # must have different prefixes or each receives the other's job updates.
        "CONFIG": {"hosts": [REDIS_URL], "prefix": env("CHANNEL_LAYER_PREFIX", default="philgeps")},
    }
}

# --- Celery -----------------------------------------------------------------------------------
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", default=REDIS_URL)
# Share one result-backend connection pool across threads instead of one per thread: under
# ASGI each request runs in a new thread, and a per-thread backend meant a new Redis
# connection per submitted job (a submit rate four times lower under uvicorn than gunicorn).
CELERY_RESULT_BACKEND_THREAD_SAFE = True
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=600)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=900)
CELERY_WORKER_CONCURRENCY = env.int("CELERY_WORKER_CONCURRENCY", default=4)
# Celery's Django fixup closes a worker process's database connections before and after
# every task, and with Django's connection pool under the prefork pool it closes the whole
# pool: a new PostgreSQL connection for every job, 7 ms of a 30 ms trivial job (measured).
# With this set it does so only every N tasks; a connection broken in between (a database
# restart) is replaced at the task's first statement (data_processing/tasks.py).
CELERY_DB_REUSE_MAX = env.int("CELERY_DB_REUSE_MAX", default=100)
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TIMEZONE = TIME_ZONE
# Late acknowledgement is set on the tasks a lost message would lose work for: the job task
# (data_processing.tasks.JobTask) and the saved-search runs and fan-out (saved_searches.tasks).
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Task events feed Flower, and nothing else reads them: the job row and the metrics say
# what a job did. The web process's "task-sent" event is off by default: it is a second
# broker publish inside every submit (a sixth of a submit's CPU, measured), and the job row
# already says a job is queued; Flower shows tasks from their "received" event on.
CELERY_TASK_SEND_SENT_EVENT = env.bool("CELERY_TASK_SEND_SENT_EVENT", default=False)
# A worker's own task events are off until Flower asks for them: a running Flower turns them
# on in every worker it sees, within seconds of starting (its enable_events option, on by
# default). Each job otherwise costs its worker three more broker publishes, the first of
# them between taking the message and handing it to a pool process (0.6 ms of a job's path,
# measured). Workers' heartbeats are sent either way.
CELERY_WORKER_SEND_TASK_EVENTS = env.bool("CELERY_WORKER_SEND_TASK_EVENTS", default=False)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A submit must not hang when the broker is down: give up quickly, keep the job PENDING,
# and let the recovery sweeper queue it once the broker is back.
CELERY_BROKER_CONNECTION_TIMEOUT = env.float("CELERY_BROKER_CONNECTION_TIMEOUT", default=2.0)
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
# An unacknowledged task is redelivered after the visibility timeout; it must outlast the
# hard time limit or a long job would be handed to a second worker while still running.
# https://docs.celeryq.dev/en/stable/getting-started/backends-and-brokers/redis.html#visibility-timeout
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_TASK_TIME_LIMIT + 300}
# Celery's consumer, but for its clean-up of a lost broker connection, which could crash
# the worker's main process at a Redis restart (the module says how).
CELERY_WORKER_CONSUMER = "config.worker_consumer:Consumer"
# A job that is running when the broker connection drops runs on to its end: its row records
# what it did, so an acknowledgement lost with the connection loses nothing (a message the
# broker kept comes again and finds its job finished). Celery 6 is to cancel such jobs by
# default, which would throw their work away (config/worker_consumer.py quiets 5.7's
# warning of it).
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
# Jobs go to the queue their kind declares (data_processing/kinds.py); the rest go here.
CELERY_TASK_DEFAULT_QUEUE = "interactive"
# But for the trigram index a bulk import leaves to a worker: a build of about 25 s per
# million titles that nobody waits for, which on the interactive queue held one of its
# worker processes that long after every import. Long work goes where exports go.
CELERY_TASK_ROUTES = {"contracts.build_deferred_indexes": {"queue": "exports"}}
# Beat reads its schedule from the database (django-celery-beat), where saved searches add
# their own entries; the entries below are copied into it when beat starts.
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BEAT_SCHEDULE = {
    "recover-lost-jobs": {"task": "data_processing.recover_jobs", "schedule": 60.0},
    "cleanup-expired-jobs": {"task": "data_processing.cleanup_jobs", "schedule": 600.0},
    # Refresh the dashboard's first answers well before they leave the result cache.
    "warm-default-results": {
        "task": "data_processing.warm_default_results",
        "schedule": max(60.0, RESULT_CACHE_TIMEOUT / 2),
    },
}

# Seconds one health report is reused for every caller (the health endpoint is public).
HEALTH_CACHE_SECONDS = env.float("HEALTH_CACHE_SECONDS", default=2.0)

# Memory PostgreSQL may use for the one-pass analytics query (SET LOCAL, that query only).
ANALYTICS_WORK_MEM = env("ANALYTICS_WORK_MEM", default="64MB")

# --- Columnar analytics (DuckDB snapshots of the contracts, one per dataset version) ---------
# Aggregates, entity tables and search pages are answered from a read-only DuckDB file built
# from the database after every import or generate (and lazily by a process that lacks it);
# the database answers whenever no current snapshot is at hand.
COLUMNAR_ENABLED = env.bool("COLUMNAR_ENABLED", default=True)
# Where snapshots live: per machine by default; a directory shared by several machines works
# too (builders take a file lock, snapshots appear by atomic rename).
COLUMNAR_DIR = Path(env("COLUMNAR_DIR", default=str(MEDIA_ROOT / "columnar")))
# Build the new snapshot right after an import/generate commits (else only lazily, on demand).
COLUMNAR_BUILD_ON_COMMIT = env.bool("COLUMNAR_BUILD_ON_COMMIT", default=True)
# ... by queueing it to a worker (interactive queue), so the import ends at its commit; when the
# broker cannot be reached, the committing process builds it itself as without this.
COLUMNAR_BUILD_IN_WORKER = env.bool("COLUMNAR_BUILD_IN_WORKER", default=True)
# Who builds the trigram index on titles that a bulk import dropped: "worker" (queued after the
# import commits, built CONCURRENTLY so reads and writes go on; the importing process builds it
# when the broker cannot be reached), "inline" (the import, before it returns: ~15 s more per
# million rows) or "later" (`manage.py repair_indexes` or the next `migrate`).
IMPORT_TRIGRAM_INDEX = env.str("IMPORT_TRIGRAM_INDEX", default="worker")
if IMPORT_TRIGRAM_INDEX not in ("worker", "inline", "later"):
    raise ImproperlyConfigured("IMPORT_TRIGRAM_INDEX must be worker, inline or later")
# Per process (each web and worker process opens the snapshot once): bounds resident memory.
COLUMNAR_MEMORY_LIMIT = env("COLUMNAR_MEMORY_LIMIT", default="512MB")
COLUMNAR_THREADS = env.int("COLUMNAR_THREADS", default=2)
# While a new version's snapshot builds, the previous version's answers; a job answered so is
# cached this many seconds only (its key names the new version), long enough to be read.
COLUMNAR_STALE_RESULT_SECONDS = env.int("COLUMNAR_STALE_RESULT_SECONDS", default=30)
# Amount thresholds (PHP, comma-separated) the value distribution marks besides the round
# 1 M / 5 M / 10 M: e.g. the approval limits of the procuring entities being audited.
RED_FLAG_THRESHOLDS = [Decimal(value) for value in env.list("RED_FLAG_THRESHOLDS", default=[])]

# --- Jobs -------------------------------------------------------------------------------------
JOB_PROGRESS_MIN_INTERVAL = env.float("JOB_PROGRESS_MIN_INTERVAL", default=0.5)
# A job's SUCCESS update on the websocket carries its answer ("data") when the answer's JSON
# is at most this many bytes, so a client watching the socket needs no result/ request;
# 0 never does. Results stay in the cache either way.
JOB_UPDATE_RESULT_MAX_BYTES = env.int("JOB_UPDATE_RESULT_MAX_BYTES", default=64 * 1024)
JOB_RETRY_BACKOFF_SECONDS = env.float("JOB_RETRY_BACKOFF_SECONDS", default=2.0)
# A queued job untouched this long is queued again (its message may have been lost).
JOB_REQUEUE_AFTER_SECONDS = env.int("JOB_REQUEUE_AFTER_SECONDS", default=300)
JOB_QUEUE_GIVE_UP_SECONDS = env.int("JOB_QUEUE_GIVE_UP_SECONDS", default=3600)
# Starts a job gets: one whose worker process dies every time (out of memory, say) then fails.
JOB_MAX_ATTEMPTS = env.int("JOB_MAX_ATTEMPTS", default=3)
# A running job this long past its hard time limit was killed; the sweeper marks it failed.
JOB_HARD_LIMIT_GRACE_SECONDS = env.int("JOB_HARD_LIMIT_GRACE_SECONDS", default=10)
# A job no live worker holds, untouched this long, lost its whole worker (killed outright):
# the sweeper queues it again (a waiting one only when nothing waits in its queue). It must
# outlast a message's way into a worker's lists, and a worker's reconnection after a blip.
JOB_LOST_AFTER_SECONDS = env.int("JOB_LOST_AFTER_SECONDS", default=60)
JOB_RETENTION_DAYS = env.int("JOB_RETENTION_DAYS", default=30)
# What one user may have at once (data_processing/limits.py); over it a submit is a 429/409.
JOB_MAX_ACTIVE_PER_USER = env.int("JOB_MAX_ACTIVE_PER_USER", default=20)
JOB_MAX_ACTIVE_EXPORTS_PER_USER = env.int("JOB_MAX_ACTIVE_EXPORTS_PER_USER", default=2)
JOB_EXPORT_MAX_BYTES_PER_USER = env.int("JOB_EXPORT_MAX_BYTES_PER_USER", default=1024**3)
# Open status websockets one user may hold in each web process (data_processing/socket_limits.py).
WEBSOCKET_MAX_PER_USER = env.int("WEBSOCKET_MAX_PER_USER", default=10)
# Polls read a job's state from a Redis mirror (data_processing/job_state.py), never the
# only copy: a miss reads the row. An active job's entry older than the stale limit is
# re-read too, in case an update could not reach Redis.
JOB_STATE_CACHE_SECONDS = env.int("JOB_STATE_CACHE_SECONDS", default=3600)
JOB_STATE_STALE_SECONDS = env.float("JOB_STATE_STALE_SECONDS", default=30.0)

# --- Saved searches ----------------------------------------------------------------------------
SAVED_SEARCH_MAX_PER_USER = env.int("SAVED_SEARCH_MAX_PER_USER", default=20)
# The shortest interval a saved search may be scheduled at.
SAVED_SEARCH_MIN_INTERVAL_SECONDS = env.int("SAVED_SEARCH_MIN_INTERVAL_SECONDS", default=300)
# After an import: at most this many of one user's saved searches run, one every
# SAVED_SEARCH_IMPORT_SPACING_SECONDS (plus jitter) across all users.
SAVED_SEARCH_IMPORT_RUNS_PER_USER = env.int("SAVED_SEARCH_IMPORT_RUNS_PER_USER", default=5)
SAVED_SEARCH_IMPORT_SPACING_SECONDS = env.float("SAVED_SEARCH_IMPORT_SPACING_SECONDS", default=2.0)
# Runs kept per saved search (older ones are deleted; their jobs stay in My jobs).
SAVED_SEARCH_RUNS_KEPT = env.int("SAVED_SEARCH_RUNS_KEPT", default=50)

# --- Metrics ---------------------------------------------------------------------------------------
# Bearer token that /metrics requires; /metrics answers 404 while it is empty.
METRICS_TOKEN = env("METRICS_TOKEN", default="")
# Where every process writes its samples (prometheus_client's multiprocess mode), one
# subdirectory per host so that containers sharing the directory never mix process ids.
# Empty: each process keeps its own samples and /metrics shows only the one answering.
METRICS_DIRECTORY = env("METRICS_DIRECTORY", default="")
if METRICS_DIRECTORY:
    _process_metrics = Path(METRICS_DIRECTORY) / socket.gethostname()
    _process_metrics.mkdir(parents=True, exist_ok=True)
    # Read by prometheus_client when first imported, which is after the settings load.
    os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", str(_process_metrics))

# --- REST framework -----------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "config.authentication.CachedTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # JSON only: a form or multipart body cannot carry nested filters, so it is a 415, not a
    # half-parsed payload that fails later in a worker.
    "DEFAULT_PARSER_CLASSES": ["config.parsers.BoundedJSONParser"],
    "DEFAULT_SCHEMA_CLASS": "config.schema.AutoSchema",
    "EXCEPTION_HANDLER": "config.errors.api_exception_handler",
    # Counted atomically in Redis (config/throttling.py); rates as N/sec, N/min, N/hour, N/day.
    "DEFAULT_THROTTLE_RATES": {
        "job_submit": env("JOB_SUBMIT_THROTTLE_RATE", default="120/min"),
        "chip": env("CHIP_THROTTLE_RATE", default="60/min"),
        "login_user": env("LOGIN_THROTTLE_RATE", default="10/min"),
        "login_ip": env("LOGIN_IP_THROTTLE_RATE", default="30/min"),
    },
    "UNAUTHENTICATED_USER": None,
}

# Token look-ups are cached in-process for a short, bounded time so that a burst of
# parallel requests (a dashboard page fires many at once) does not hit the database once each.
TOKEN_CACHE_SECONDS = env.int("TOKEN_CACHE_SECONDS", default=60)
TOKEN_CACHE_MAX_ENTRIES = env.int("TOKEN_CACHE_MAX_ENTRIES", default=1024)

SPECTACULAR_SETTINGS = {
    "TITLE": "PhilGEPS Contract Analytics API",
    "DESCRIPTION": (
        "Search and analytics over PhilGEPS awarded contracts. Heavy operations run "
        "asynchronously on Celery workers; see the README for the job life cycle. "
        "Every error body has the shape "
        '{"status": "error", "code": str, "message": str, "errors": {field: [str]}}.'
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "config.schema.add_error_responses",
        "data_processing.openapi.document_async_mode",
        "data_processing.openapi.link_job_answers",
    ],
    # Choice sets that several requests share get one name each.
    "ENUM_NAME_OVERRIDES": {
        "EntityTypeEnum": "contracts.analysis_serializers.DIMENSIONS",
        "ContractOrderingEnum": "contracts.analysis_serializers.CONTRACT_ORDERING_CHOICES",
        "EntityOrderingEnum": "contracts.analysis_serializers.ENTITY_ORDERING_CHOICES",
        "ExportTargetEnum": "contracts.selectors.table_export.EXPORT_TARGETS",
    },
}

CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": env.int("PASSWORD_MIN_LENGTH", default=10)},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "redact_secrets": {"()": "config.logging_filters.RedactSecretsFilter"},
        "without_traceback": {"()": "config.logging_filters.WithoutTracebackFilter"},
    },
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact_secrets"]},
        "console_one_line": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["redact_secrets", "without_traceback"],
        },
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        # Django's own handlers (a plain console copy under DEBUG, mail to admins) go: its
        # records reach the root's handler once, in the same format as everything else.
        "django": {"handlers": [], "level": "INFO"},
        "django.security": {"handlers": ["console_one_line"], "propagate": False},
        "django.db.backends": {"level": "WARNING"},
        # The ASGI server's access lines carry query strings (?token=...): same handler, same filter.
        "uvicorn.access": {"handlers": ["console"], "propagate": False},
        "uvicorn.error": {"handlers": ["console"], "propagate": False},
    },
}
