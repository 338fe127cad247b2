"""Benchmark settings (test/bench_job_api.py): production's per-request behaviour, plus the
do-nothing view that measures Django's own floor. Never used by a deployed server."""

from .production import *  # noqa: F403

ROOT_URLCONF = "config.bench_urls"
STATIC_ROOT = None  # as in local settings: served from the apps, never collected

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
