"""`make run`'s default database, a SQLite file that the web server, the workers and beat
share, under concurrent use: a long read must not hold up anyone's writes.

SQLite's default rollback journal makes a commit wait for every reader. An export streaming
its rows then held up every other process's writes until each gave up after the busy
timeout ("database is locked": 500s, failed jobs, and beat exiting, which stopped `make
run`). Each test runs a script on a SQLite file of its own, in a process of its own.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from test.support.sqlite_demo import sqlite_demo_env

ROOT = Path(__file__).resolve().parents[2]

# A write from another thread (its own connection) while this thread reads, and how long
# it took; the busy timeout is 20 s, so a write held up by the read takes at least that.
WRITE_ELSEWHERE = """
import threading, time
from django.db import connection

def write_elsewhere(write):
    took = []
    def run():
        started = time.monotonic()
        try:
            write()
        finally:
            took.append(time.monotonic() - started)
            connection.close()
    thread = threading.Thread(target=run)
    thread.start()
    thread.join(30)
    assert took, "the write never finished"
    return took[0]
"""

READ_WHILE_WRITING = (
    WRITE_ELSEWHERE
    + """
from django.db import connection
from contracts.models import Organization, Contract

with connection.cursor() as cursor:
    cursor.execute("PRAGMA journal_mode")
    assert cursor.fetchone()[0] == "wal"
rows = Contract.objects.values_list("id").iterator(chunk_size=1)
next(rows)  # a read under way, as an export's
took = write_elsewhere(lambda: Organization.objects.create(name="Written while read"))
rows.close()  # the read ends; until then it sees the data as it was when it began
assert took < 5, took
assert Organization.objects.filter(name="Written while read").exists()
print("read while writing: ok")
"""
)

DUMP_WHILE_WRITING = (
    WRITE_ELSEWHERE
    + """
import tempfile
from pathlib import Path
from django.db.models import F
from contracts.columnar import snapshot
from contracts.models import DatasetVersion, Organization

written = snapshot._write_csv
def write_and_then_dump(queryset, path, change):
    took = write_elsewhere(change)
    assert took < 5, took
    return written(queryset, path)

def dump_with(change):
    snapshot._write_csv = lambda queryset, path: write_and_then_dump(queryset, path, change)
    try:
        with tempfile.TemporaryDirectory() as tmp, tempfile.TemporaryDirectory() as directory:
            return snapshot._dump(Path(tmp), Path(directory))
    finally:
        snapshot._write_csv = written

# A write of no data version goes through during the dump, which still counts.
dumped = dump_with(lambda: Organization.objects.create(name="Written during a dump"))
assert dumped is not None and dumped.rows > 0, dumped
# New data committed during the dump: it read outside one transaction, so it starts over.
assert dump_with(lambda: DatasetVersion.objects.filter(pk=1).update(version=F("version") + 1)) is None
print("dump while writing: ok")
"""
)


PROGRESS_WHILE_READING = (
    WRITE_ELSEWHERE
    + """
from django.contrib.auth import get_user_model
from django.db import transaction
from contracts.models import Contract, Organization
from data_processing import job_rows
from data_processing.models import Job
from data_processing.progress import ProgressReporter

owner = get_user_model().objects.create_user("sqlite-export", password="x" * 12)
job = Job(owner=owner, kind="export", params={"filters": {}}, cache_key="export:sqlite", state="STARTED")
assert job_rows.insert_below_limits(job, max_active=5).inserted
report = ProgressReporter(job, min_interval=0)
rows = Contract.objects.values_list("id").iterator(chunk_size=1)
next(rows)  # an export streaming its rows on the job's own connection
report(1, 4, "before anyone else wrote")
assert Job.objects.get(id=job.id).progress == 25
assert write_elsewhere(lambda: Organization.objects.create(name="Written meanwhile")) < 5
report(2, 4, "after")  # this connection cannot write until its read ends: skipped
rows.close()
assert Job.objects.get(id=job.id).progress == 25

# While another connection holds the write lock, a reading one is told "busy" at once.
rows = Contract.objects.values_list("id").iterator(chunk_size=1)
next(rows)
holding, release = threading.Event(), threading.Event()
def hold_the_write_lock():
    try:
        with transaction.atomic():  # BEGIN IMMEDIATE
            Organization.objects.create(name="Held")
            holding.set()
            release.wait(30)
    finally:
        connection.close()
holder = threading.Thread(target=hold_the_write_lock)
holder.start()
assert holding.wait(30)
started = time.monotonic()
report(3, 4, "while another holds the write lock")  # skipped at once, not after the timeout
assert time.monotonic() - started < 5
release.set()
holder.join(30)
rows.close()
assert Job.objects.get(id=job.id).progress == 25
report(3, 4, "once the read is over")
assert Job.objects.get(id=job.id).progress == 75
print("progress while reading: ok")
"""
)


def run_on_sqlite(tmp_path: Path, script: str) -> str:
    env = sqlite_demo_env(tmp_path)
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "-v", "0"], cwd=ROOT, env=env, check=True, timeout=120)
    generate = [*manage, "generate_contracts", "--count", "200", "--seed", "3", "--no-progress"]
    subprocess.run(generate, cwd=ROOT, env=env, check=True, capture_output=True, timeout=120)
    done = subprocess.run(
        [*manage, "shell", "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_a_write_goes_through_while_another_connection_is_reading(tmp_path):
    assert "read while writing: ok" in run_on_sqlite(tmp_path, READ_WHILE_WRITING)


def test_a_snapshot_dump_lets_writes_through_and_starts_over_when_the_data_changed(tmp_path):
    assert "dump while writing: ok" in run_on_sqlite(tmp_path, DUMP_WHILE_WRITING)


def test_a_job_reading_its_rows_skips_a_progress_write_it_cannot_make_rather_than_failing(tmp_path):
    """A connection that is reading cannot write once another process has committed since
    its read began, nor wait for another's write lock: SQLite refuses at once, whatever the
    timeout, and an export's progress write then failed the job's attempt."""
    assert "progress while reading: ok" in run_on_sqlite(tmp_path, PROGRESS_WHILE_READING)
