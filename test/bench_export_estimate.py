#!/usr/bin/env python
"""What an export's estimate costs (`POST contracts/export-estimate/`, a synchronous
endpoint), on the columnar snapshot beside the database alone, measured in the same run.

Not a test: a benchmark that prints figures. It uses the chip benchmark's database
(`philgeps_bench`, created with `--rows` generated contracts when it does not hold them),
builds its columnar snapshot, then times `export_estimate` in this process for the chip
benchmark's filter sets: the contract export (the matching count, and a sample of the
newest 200 rows written as CSV) and the contractor table's export (the number of
contractors, and a sample of the table's first 200 rows). The same count gives an export
job its progress total before it writes the first row.

    .venv/bin/python test/bench_export_estimate.py [--database NAME] [--rows N] [--samples N]
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
    args = parser.parse_args()
    setup_django_on(args.database, args.rows)
    from django.test import override_settings

    from contracts.columnar import build_snapshot
    from contracts.selectors.table_export import export_estimate
    from contracts.serializers import FiltersSerializer

    started = time.perf_counter()
    build_snapshot()  # without it the first estimates would be the database's
    print(f"columnar snapshot ready in {time.perf_counter() - started:.1f} s")
    chosen = filter_sets(args.database)
    targets = {
        "contracts": {"target": "contracts"},
        "contractor table": {"target": "entity_table", "entity_type": "contractor"},
    }
    print(f"\n{args.rows:,} contracts; {args.samples} samples each; median / p99 ms")
    header = "".join(f"{f'{target}, {engine}':>30}" for target in targets for engine in ENGINES)
    print(f"{'filters':<18}{header}{'rows':>12}")
    for name, chips in chosen.items():
        serializer = FiltersSerializer(data=chips)
        serializer.is_valid(raise_exception=True)
        filters = serializer.validated_data
        cells, answers = [], []
        for target in targets.values():
            for engine in ENGINES:
                with override_settings(COLUMNAR_ENABLED=engine == "columnar"):
                    times = timed(lambda f=filters, t=target: export_estimate(filters=f, **t), args.samples)
                    answers.append(export_estimate(filters=filters, **target)["rows"])
                cells.append(f"{statistics.median(times):9.1f} / {percentile(times, 99):8.1f}")
        assert answers[0] == answers[1] and answers[2] == answers[3], answers  # one set of answers
        print(f"{name:<18}{''.join(f'{cell:>30}' for cell in cells)}{answers[0]:>12,}", flush=True)


if __name__ == "__main__":
    main()
