#!/usr/bin/env python
"""Throughput of `import_contracts` on a PhilGEPS export of N rows (PostgreSQL).

Not a test: a benchmark that prints figures. It imports one CSV into an emptied database
twice, fresh and again unchanged, and prints rows per second beside a baseline measured in
the same run: a bare `COPY ... (FORMAT csv)` of the same file into an unindexed scratch
table, which is how fast PostgreSQL alone takes these bytes on this machine at this moment
(absolute figures swing a lot on shared machines; the ratio is steadier). Per-interval
throughput over each batch's worth of rows (from the progress callback) is given as median
and p10 (the slow tail of rows per second).

Without --csv it writes a real-format export (the 46-column header of the newer generation,
dd/mm/yyyy dates, NULL for missing cells, some unawarded and broken rows) from the
generator's distributions, and deletes it afterwards. The database (`DATABASE_URL`, by
default `bench_importer` on the local server) is created when it does not exist.

    .venv/bin/python test/bench_import.py --rows 1000000 [--csv FILE] [--batch-size N]
        [--trigram-index=inline]
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import itertools
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench_importer")
os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.local"
# The snapshot build after an import is a worker's job (COLUMNAR_BUILD_IN_WORKER): timed here
# on its own, after each import, rather than queued to whatever worker reads the local broker.
os.environ["COLUMNAR_BUILD_ON_COMMIT"] = "false"
# So is the trigram index a bulk import leaves for later (IMPORT_TRIGRAM_INDEX=worker);
# --trigram-index inline times the import building it itself.
if "--trigram-index=inline" not in sys.argv[1:]:
    os.environ["IMPORT_TRIGRAM_INDEX"] = "later"
else:
    os.environ["IMPORT_TRIGRAM_INDEX"] = "inline"

import django  # noqa: E402
from bench_chip_endpoints import create_database  # noqa: E402 - this script's folder is on sys.path

create_database(os.environ["DATABASE_URL"])
django.setup()

import numpy as np  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from contracts.columnar import build_snapshot  # noqa: E402
from contracts.entities import ENTITIES  # noqa: E402
from contracts.generating.sampling import (  # noqa: E402
    CLASSIFICATIONS,
    FIRST_DAY,
    PROCUREMENT_MODES,
    plan_generation,
    sample_chunks,
)
from contracts.importing.loader import DEFAULT_BATCH_SIZE, ImportSummary, contracts_import  # noqa: E402
from contracts.indexes import build_deferred_indexes  # noqa: E402
from contracts.models import Contract  # noqa: E402

HEADER = [
    "Procuring Entity (PE)", "Region", "Province", "City/Municipality", "Government Branch",
    "PE Organization Type", "PE Organization Type (Grouped)", "Bid Reference No.", "Notice Title",
    "Classification", "Procurement Mode", "Business Category", "Funding Source", "Funding Instrument",
    "Trade Agreement", "Approved Budget of the Contract", "Published Date", "Closing Date",
    "Area of Delivery", "Contract Duration", "Calendar Type", "Line Item No", "Item Name",
    "Item Description", "Quantity", "UOM", "Item Budget", "Bid Notice Status", "Award Reference No.",
    "Award Title", "UNSPSC Code", "UNSPSC Description", "Published Date(Award)", "Award Date",
    "Contract Amount", "Award Notice Status", "Notice to Proceed Date", "Contract Effectivity Date",
    "Contract End Date", "Awardee Organization Name", "Country of Awardee", "Region of Awardee",
    "Province of Awardee", "City/Municipality of Awardee", "Awardee Size", "Awardee Joint Venture",
]  # fmt: skip
COLUMN = {name: index for index, name in enumerate(HEADER)}
FILLER = {  # cells the importer ignores, so that rows are as wide as real ones
    "Government Branch": "Executive",
    "PE Organization Type": "National Government Agency",
    "Funding Source": "Government of the Philippines (GOP)",
    "Funding Instrument": "General Appropriations Act",
    "Trade Agreement": "Implementing Rules and Regulations",
    "Contract Duration": "37",
    "Calendar Type": "Calendar Days",
    "Item Name": "Item as per technical specifications",
    "UOM": "lot",
    "Bid Notice Status": "Awarded",
    "Award Notice Status": "Published",
    "Country of Awardee": "Philippines",
    "Awardee Size": "Small",
    "Awardee Joint Venture": "No",
}
UNAWARDED_SHARE = 0.002  # no awardee: skipped
BROKEN_SHARE = 0.001  # a contract amount that is not a number: rejected


def write_export(path: Path, rows: int, seed: int = 42) -> None:
    """A real-format export of `rows` rows drawn as `generate_contracts` draws them."""
    rng = np.random.default_rng(seed)
    plan = plan_generation(rows, rng)
    template = ["NULL"] * len(HEADER)
    for name, value in FILLER.items():
        template[COLUMN[name]] = value
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        for chunk in sample_chunks(plan, rng, 50_000):
            flaw = rng.random(len(chunk))
            for i in range(len(chunk)):
                row = list(template)
                day = FIRST_DAY + dt.timedelta(days=int(chunk.award_day[i]))
                area = int(chunk.area[i])
                budget = float(chunk.approved_budget[i])
                number = chunk.start + i + 1
                row[COLUMN["Procuring Entity (PE)"]] = plan.organizations.names[chunk.organization[i]]
                row[COLUMN["Bid Reference No."]] = str(9_000_000 + number)
                row[COLUMN["Award Reference No."]] = str(100_000_000 + number)
                row[COLUMN["Line Item No"]] = "1"
                row[COLUMN["Notice Title"]] = chunk.notice_titles[i]
                row[COLUMN["Award Title"]] = chunk.titles[i]
                row[COLUMN["Classification"]] = CLASSIFICATIONS[chunk.classification[i]]
                row[COLUMN["Procurement Mode"]] = PROCUREMENT_MODES[chunk.procurement_mode[i]]
                row[COLUMN["Business Category"]] = plan.categories.names[chunk.category[i]]
                row[COLUMN["Area of Delivery"]] = plan.areas.names[area] if area >= 0 else "NULL"
                budget_text = "NULL" if budget != budget else f"{budget:.2f}"  # NaN: no budget
                row[COLUMN["Approved Budget of the Contract"]] = budget_text
                row[COLUMN["Award Date"]] = day.strftime("%d/%m/%Y")
                row[COLUMN["Published Date"]] = (day - dt.timedelta(days=30)).strftime("%d/%m/%Y")
                amount = f"{float(chunk.amount[i]):.2f}"
                row[COLUMN["Contract Amount"]] = "TBD" if flaw[i] < BROKEN_SHARE else amount
                awarded = flaw[i] <= 1 - UNAWARDED_SHARE
                contractor = plan.contractors.names[chunk.contractor[i]] if awarded else "NULL"
                row[COLUMN["Awardee Organization Name"]] = contractor
                writer.writerow(row)


def empty_tables() -> None:
    tables = [Contract._meta.db_table, *(entity.model._meta.db_table for entity in ENTITIES)]
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY")
    connection.close()


def bare_copy(path: Path) -> tuple[float, int]:
    """Seconds for PostgreSQL to take the file's rows into an unindexed text table, and the rows."""
    columns = ", ".join(f"c{i} text" for i in range(len(HEADER)))
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMPORARY TABLE bench_scratch ({columns})")
        with path.open("rb") as f, cursor.copy("COPY bench_scratch FROM STDIN (FORMAT csv, HEADER)") as copy:
            while block := f.read(1 << 20):
                copy.write(block)
        elapsed = time.perf_counter() - started
        cursor.execute("SELECT count(*) FROM bench_scratch")
        (rows,) = cursor.fetchone()
        cursor.execute("DROP TABLE bench_scratch")
    return elapsed, rows


class CpuSplit:
    """CPU seconds from here on: this process (the writer), its finished children (the
    parsers) and its PostgreSQL backend (when the server runs on this machine)."""

    def __init__(self) -> None:
        connection.ensure_connection()
        self._backend = connection.connection.info.backend_pid
        self._start = self._now()

    def _now(self) -> tuple[float, float, float | None]:
        own = resource.getrusage(resource.RUSAGE_SELF)
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        try:
            fields = Path(f"/proc/{self._backend}/stat").read_text().rsplit(")", 1)[1].split()
            backend: float | None = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except OSError:
            backend = None
        return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime, backend

    def __str__(self) -> str:
        (writer, parsers, backend), (writer0, parsers0, backend0) = self._now(), self._start
        pg = "" if backend is None or backend0 is None else f", PostgreSQL backend {backend - backend0:.1f}"
        return f"CPU seconds: writer {writer - writer0:.1f}, parsers {parsers - parsers0:.1f}{pg}"


def timed_import(path: Path, batch_size: int) -> tuple[ImportSummary, list[float], float]:
    """The import's summary, its rows/s over each stretch of about one batch of rows, and the
    seconds after the last row was read (indexes rebuilt, tables vacuumed)."""
    marks: list[tuple[float, int]] = [(time.perf_counter(), 0)]

    def progress(done: int) -> None:
        marks.append((time.perf_counter(), done))

    cpu = CpuSplit()
    with path.open("rb") as f:
        summary = contracts_import(f, batch_size=batch_size, on_progress=progress)
    print(f"{'':<22} {cpu}", flush=True)
    # Progress comes once per block the parsers read (~1,500 rows); a batch is written every
    # batch_size rows: rates are taken over stretches of at least a batch.
    rows_per_byte = summary.rows_read / path.stat().st_size
    windows = [marks[0]]
    for mark in marks[1:]:
        if (mark[1] - windows[-1][1]) * rows_per_byte >= batch_size:
            windows.append(mark)
    rates = [
        (b1 - b0) * rows_per_byte / (t1 - t0)
        for (t0, b0), (t1, b1) in itertools.pairwise(windows)
        if t1 > t0 and b1 > b0
    ]
    return summary, rates, time.perf_counter() - marks[-1][0]


def report(label: str, rows: int, seconds: float, rates: list[float], baseline: float, tail: float) -> None:
    deciles = statistics.quantiles(rates, n=10) if len(rates) >= 10 else [min(rates, default=0.0)]
    streaming = seconds - tail
    print(
        f"{label:<22} {rows / seconds:>10,.0f} rows/s  {seconds:>7.1f} s  "
        f"per batch: median {statistics.median(rates) if rates else 0:>9,.0f}  p10 {deciles[0]:>9,.0f}  "
        f"({rows / seconds / baseline:.2f}x bare COPY)\n"
        f"{'':<22} split: streaming {streaming:.1f} s ({rows / max(streaming, 1e-9):,.0f} rows/s), "
        f"after the last row {tail:.1f} s (indexes, foreign keys, VACUUM ANALYZE)  {load()}",
        flush=True,
    )


def timed_snapshot() -> None:
    """The columnar snapshot of the new version, as the worker builds it after an import."""
    started = time.perf_counter()
    build_snapshot(wait=True)
    seconds = time.perf_counter() - started
    print(f"{'':<22} snapshot build (a worker's job, not in the figure above) {seconds:.1f} s")


def timed_deferred_indexes() -> None:
    """The indexes the import left for later, built CONCURRENTLY as the worker builds them."""
    started = time.perf_counter()
    built = build_deferred_indexes()
    if built:
        seconds = time.perf_counter() - started
        print(f"{'':<22} {', '.join(built)} (a worker's job, not in the figure above) {seconds:.1f} s")


def load() -> str:
    return "load average " + " ".join(f"{value:.2f}" for value in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows to write when no --csv is given")
    parser.add_argument("--csv", type=Path, help="an export to import instead of a generated one")
    parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE)
    parser.add_argument(
        "--trigram-index=inline",
        dest="inline",
        action="store_true",
        help="the import builds the trigram index itself (IMPORT_TRIGRAM_INDEX=inline)",
    )
    args = parser.parse_args()

    print(load(), flush=True)
    call_command("migrate", verbosity=0)
    with tempfile.TemporaryDirectory() as scratch:
        path = args.csv
        if path is None:
            path = Path(scratch) / "export.csv"
            started = time.perf_counter()
            write_export(path, args.rows)
            print(f"wrote {args.rows:,} rows ({path.stat().st_size / 1e6:,.0f} MB) in "
                  f"{time.perf_counter() - started:.0f} s", flush=True)  # fmt: skip
        empty_tables()
        copy_seconds, rows = bare_copy(path)
        baseline = rows / copy_seconds
        print(f"{'bare COPY (baseline)':<22} {baseline:>10,.0f} rows/s  {copy_seconds:>7.1f} s", flush=True)
        fresh, rates, tail = timed_import(path, args.batch_size)
        report("import, fresh", fresh.rows_read, fresh.elapsed, rates, baseline, tail)
        print(f"  created {fresh.created:,}, skipped {fresh.skipped:,}, rejected {fresh.rejected:,}")
        timed_deferred_indexes()
        timed_snapshot()
        again, rates, tail = timed_import(path, args.batch_size)
        report("import, unchanged", again.rows_read, again.elapsed, rates, baseline, tail)
        print(f"  unchanged {again.unchanged:,}, created {again.created:,}, updated {again.updated:,}")
        copy_seconds, rows = bare_copy(path)
        print(f"{'bare COPY (again)':<22} {rows / copy_seconds:>10,.0f} rows/s  {copy_seconds:>7.1f} s")


if __name__ == "__main__":
    main()
