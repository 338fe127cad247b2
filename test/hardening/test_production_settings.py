"""Production settings refuse development defaults and take HTTPS behaviour from the
environment; the docs UI loads nothing from another site."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRINT = (
    "import django; django.setup(); from django.conf import settings as s; "
    "print(s.SECURE_PROXY_SSL_HEADER, s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS)"
)


def production(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))}
    clean.update(DJANGO_SETTINGS_MODULE="config.settings.production", **env)
    return subprocess.run(
        [sys.executable, "-c", PRINT], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize("secret", ["dev-insecure-secret-key-change-me", ""])
def test_production_refuses_the_development_secret(secret):
    result = production(DJANGO_SECRET_KEY=secret)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_the_proxy_header_is_not_trusted_unless_configured():
    plain = production(DJANGO_SECRET_KEY="k" * 50)
    assert plain.returncode == 0, plain.stderr[-1000:]
    assert plain.stdout.split() == ["None", "False", "0"]

    behind_proxy = production(
        DJANGO_SECRET_KEY="k" * 50,
        DJANGO_SECURE_PROXY_SSL_HEADER="HTTP_X_FORWARDED_PROTO,https",
        DJANGO_SECURE_SSL_REDIRECT="true",
        DJANGO_SECURE_HSTS_SECONDS="31536000",
    )
    assert behind_proxy.returncode == 0, behind_proxy.stderr[-1000:]
    assert behind_proxy.stdout.strip() == "('HTTP_X_FORWARDED_PROTO', 'https') True 31536000"


def test_the_docs_ui_is_served_from_our_own_static_files(client, db):
    page = client.get("/api/v1/docs/").content.decode()
    # Every file the page loads is ours: a path on this origin, never another host's. (Not a
    # search for "cdn" in the whole page: its random CSRF token may spell that.)
    loaded = re.findall(r"""(?:src|href)\s*=\s*["']([^"']*)["']""", page)
    assert loaded and all(url.startswith("/") and not url.startswith("//") for url in loaded), loaded
    assert "https://" not in page and "http://" not in page
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in page
    assert (
        client.get("/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js").status_code == 200
    )
