"""The web and worker processes keep what they start with out of the collector's full passes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Far below what a process holds once Django and the project are imported (over 100,000
# objects), far above what a bare interpreter might have frozen (none).
MOST_OF_A_PROCESS = 50_000
COUNT = "import gc; {start}; gc.collect(); print(gc.get_freeze_count(), len(gc.get_objects()))"


def started(start: str) -> tuple[int, int]:
    """Frozen objects and those a full pass walks, in a new process after ``start``."""
    result = subprocess.run(
        [sys.executable, "-c", COUNT.format(start=start)],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.local"},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    frozen, tracked = result.stdout.split()
    return int(frozen), int(tracked)


@pytest.mark.parametrize(
    "start",
    [
        pytest.param("import config.asgi", id="web server process"),
        pytest.param(
            "import django; django.setup(); from config.celery_app import app; "
            "from celery.signals import worker_process_init; worker_process_init.send(sender=None)",
            id="worker pool process",
        ),
    ],
)
def test_a_started_process_has_frozen_what_it_imported(start):
    frozen, tracked = started(start)

    assert frozen > MOST_OF_A_PROCESS
    assert tracked < frozen / 10  # what a full pass still walks
