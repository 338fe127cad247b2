"""Benchmark settings (test/bench_job_api.py): production's per-request behaviour, plus the
do-nothing view that measures Django's own floor. Never used by a deployed server."""

from .production import *  # noqa: F403

ROOT_URLCONF = "config.bench_urls"
STATIC_ROOT = None  # as in local settings: served from the apps, never collected
# Pub/sub ignores Redis database numbers: a prefix of its own keeps other stacks' events apart.
CHANNEL_LAYERS["default"]["CONFIG"]["prefix"] = env("BENCH_CHANNEL_PREFIX", default="philgeps-bench")  # noqa: F405

# BENCH_STOCK_MIDDLEWARE=1: Django's and WhiteNoise's own middleware classes instead of the
# subclasses in config/middleware.py and config/static_files.py, to measure what they save.
if env.bool("BENCH_STOCK_MIDDLEWARE", default=False):  # noqa: F405
    MIDDLEWARE = [
        "django.middleware.security.SecurityMiddleware",
        "whitenoise.middleware.WhiteNoiseMiddleware",
        "corsheaders.middleware.CorsMiddleware",
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.middleware.common.CommonMiddleware",
        "django.middleware.csrf.CsrfViewMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
        "django.contrib.messages.middleware.MessageMiddleware",
        "django.middleware.clickjacking.XFrameOptionsMiddleware",
    ]
