#!/usr/bin/env python
"""What an export's estimate and an entity-table export cost, on the columnar snapshot
beside the database alone, measured in the same run.

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
  an export job writes), read to the end.

    .venv/bin/python test/bench_exports.py [--database NAME] [--rows N] [--samples N] [--export-samples N]
"""

from __future__ import annotations

import argparse
import statistics
import time

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

    def written(filters: object) -> str:
        return "".join(entity_export_lines(filters=filters, entity_type="contractor"))

    print(f"\nThe contractor table's CSV, every line; {args.export_samples} samples each; median / p99 ms")
    print(f"{'filters':<18}{''.join(f'{engine:>22}' for engine in ENGINES)}{'lines':>12}{'MB':>8}")
    for name, filters in chosen.items():
        cells, files = [], []
        for engine in ENGINES:
            with override_settings(COLUMNAR_ENABLED=engine == "columnar"):
                times = timed(lambda f=filters: written(f), args.export_samples)
                files.append(written(filters))
            cells.append(f"{statistics.median(times):9.1f} / {percentile(times, 99):8.1f}")
        assert files[0] == files[1], name  # the same file, byte for byte
        lines, size = files[0].count("\n"), len(files[0].encode()) / 1e6
        print(f"{name:<18}{''.join(f'{cell:>22}' for cell in cells)}{lines:>12,}{size:>8.1f}", flush=True)


def validated(serializer_class: type, data: dict) -> object:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


if __name__ == "__main__":
    main()
