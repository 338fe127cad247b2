#!/usr/bin/env python
"""What exports cost (the estimate, the entity-table CSV, the contract export's CSV), on the
columnar snapshot beside the database alone, measured in the same run.

Not a test: a benchmark that prints figures. It uses the chip benchmark's database
(`philgeps_bench`, created with `--rows` generated contracts when it does not hold them),
builds its columnar snapshot, then times, in this process, for the chip benchmark's filter
sets:

- `export_estimate` (`POST contracts/export-estimate/`, a synchronous endpoint) for the
  contract export (the matching count, and a sample of the newest 200 rows written as CSV)
  and for the contractor table's export (the number of contractors, and a sample of the
  table's first 200 rows). The same count gives an export job its progress total before it
  writes the first row.
- the contractor table's CSV, every line of it (what the streamed export endpoint sends and
  an export job writes), read to the end; then the contract export's (what an export job
  writes). The two engines' files are checked equal (their SHA-256) in the run.

    .venv/bin/python test/bench_exports.py [--database NAME] [--rows N] [--samples N] [--export-samples N]
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import time
from collections.abc import Iterable

from bench_chip_endpoints import filter_sets, percentile, setup_django_on, timed

ENGINES = ("columnar", "database")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default="philgeps_bench")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=10)
    parser.add_argument("--export-samples", type=int, default=3, help="for the whole CSV (seconds each)")
    args = parser.parse_args()
    setup_django_on(args.database, args.rows)
    from django.test import override_settings

    from contracts.columnar import build_snapshot
    from contracts.csv_format import csv_lines
    from contracts.selectors.contract_export import contract_export_rows
    from contracts.selectors.table_export import entity_export_lines, export_estimate
    from contracts.serializers import FiltersSerializer

    started = time.perf_counter()
    build_snapshot()  # without it the first estimates would be the database's
    print(f"columnar snapshot ready in {time.perf_counter() - started:.1f} s")
    targets = {
        "contracts": {"target": "contracts"},
        "contractor table": {"target": "entity_table", "entity_type": "contractor"},
    }
    chosen = {name: validated(FiltersSerializer, chips) for name, chips in filter_sets(args.database).items()}
    print(f"\n{args.rows:,} contracts; export estimates, {args.samples} samples each; median / p99 ms")
    header = "".join(f"{f'{target}, {engine}':>30}" for target in targets for engine in ENGINES)
    print(f"{'filters':<18}{header}{'rows':>12}")
    for name, filters in chosen.items():
        cells, answers = [], []
        for target in targets.values():
            for engine in ENGINES:
                with override_settings(COLUMNAR_ENABLED=engine == "columnar"):
                    times = timed(lambda f=filters, t=target: export_estimate(filters=f, **t), args.samples)
                    answers.append(export_estimate(filters=filters, **target)["rows"])
                cells.append(f"{statistics.median(times):9.1f} / {percentile(times, 99):8.1f}")
        assert answers[0] == answers[1] and answers[2] == answers[3], answers  # one set of answers
        print(f"{name:<18}{''.join(f'{cell:>30}' for cell in cells)}{answers[0]:>12,}", flush=True)

    files = {
        "The contractor table's CSV": lambda f: entity_export_lines(filters=f, entity_type="contractor"),
        "The contract export's CSV": lambda f: csv_lines(contract_export_rows(filters=f)),
    }
    for title, lines_of in files.items():
        print(f"\n{title}, every line; {args.export_samples} samples each; median / p99 ms")
        print(f"{'filters':<18}{''.join(f'{engine:>22}' for engine in ENGINES)}{'lines':>12}{'MB':>8}")
        for name, filters in chosen.items():
            cells, digests = [], []
            for engine in ENGINES:
                with override_settings(COLUMNAR_ENABLED=engine == "columnar"):
                    times = timed(lambda f=filters, w=lines_of: digest(w(f)), args.export_samples)
                    digests.append(digest(lines_of(filters)))
                cells.append(f"{statistics.median(times):9.1f} / {percentile(times, 99):8.1f}")
            assert digests[0] == digests[1], name  # the same file, byte for byte
            _, lines, size = digests[0]
            print(f"{name:<18}{''.join(f'{c:>22}' for c in cells)}{lines:>12,}{size / 1e6:>8.1f}", flush=True)


def digest(lines: Iterable[str]) -> tuple[str, int, int]:
    """(SHA-256, lines, bytes) of a file's lines, read to the end without keeping them."""
    sha, count, size = hashlib.sha256(), 0, 0
    for line in lines:
        data = line.encode()
        sha.update(data)
        count, size = count + 1, size + len(data)
    return sha.hexdigest(), count, size


def validated(serializer_class: type, data: dict) -> object:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


if __name__ == "__main__":
    main()
