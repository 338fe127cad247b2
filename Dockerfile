# The backend image. The web server (gunicorn + uvicorn workers), the Celery workers, beat,
# Flower and the one-shot migrate all run from it with different commands: see
# docker-compose.backend.yml.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=config.settings.production

WORKDIR /app

# The processes run as this user, who owns nothing but the export directory: a compromised
# process cannot rewrite the code it runs.
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --no-create-home --home-dir /app --shell /usr/sbin/nologin app

# Requirements before the code: this layer is rebuilt when a pin changes, not on every edit.
# (psycopg[binary] and uvicorn[standard] ship wheels: no compiler or libpq needed.)
COPY requirements/base.txt requirements/production.txt requirements/
RUN pip install -r requirements/production.txt

COPY manage.py ./
COPY config/ config/
COPY contracts/ contracts/
COPY data_processing/ data_processing/
COPY saved_searches/ saved_searches/
COPY dashboard/ dashboard/
COPY templates/ templates/
COPY bin/ bin/

# Static files (admin, DRF, Swagger UI) are collected into the image and served by WhiteNoise.
# The production settings insist on a secret key; this one exists only during the build.
# /app/var holds export files; a named volume mounted there inherits its owner.
RUN DJANGO_SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput \
    && mkdir -p /app/var \
    && chown app:app /app/var

USER app
EXPOSE 3200

# The web server by default; compose gives the workers, beat, Flower and migrate their own
# commands. gunicorn reads WEB_CONCURRENCY for its number of workers, and config/gunicorn.py.
CMD ["gunicorn", "config.asgi:application", "--config", "config/gunicorn.py", "--worker-class", "config.web_server.UvicornWorker", "--bind", "0.0.0.0:3200"]
