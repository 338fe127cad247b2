#!/usr/bin/env python
"""Time of each red-flag and drill-down analysis on 1,000,000 generated contracts.

Not a test: a benchmark that prints figures. It creates (once) the database
`bench_redflags`, generates 1M contracts into it, builds their columnar snapshot, and calls
each selector in-process (no HTTP) for the chip endpoints' benchmark filter sets, on each
engine (the columnar snapshot, then the database with the snapshot switched off). The
baseline, measured in the same run, is the database's plain count of the matching rows
(`filter_contracts(filters).count()`).

    .venv/bin/python test/bench_red_flags.py [--rows N] [--samples N] [--engines columnar,database]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "test")]

from bench_chip_endpoints import (  # noqa: E402
    filter_sets,
    percentile,
    setup_django_on,
    timed,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=15)
    parser.add_argument("--database", default="bench_redflags")
    parser.add_argument("--engines", default="columnar,database", help="columnar,database")
    args = parser.parse_args()

    setup_django_on(args.database, args.rows)
    from django.test import override_settings

    from contracts.columnar import build_snapshot
    from contracts.filters import filter_contracts
    from contracts.selectors.drilldown import related_entities
    from contracts.selectors.red_flags import benford, rounding, value_distribution
    from contracts.selectors.treemap import value_treemap
    from contracts.serializers import FiltersSerializer

    started = time.perf_counter()
    build_snapshot()
    print(f"columnar snapshot ready in {time.perf_counter() - started:.1f} s")
    chosen = filter_sets(args.database)
    (contractor,) = chosen["one contractor"]["contractors"]  # about 150 contracts
    analyses: dict[str, Callable[..., object]] = {
        "value_distribution (linear, 100)": lambda f: value_distribution(filters=f, bins=100),
        "value_distribution (log, 1000)": lambda f: value_distribution(filters=f, bins=1000, scale="log"),
        "benford": lambda f: benford(filters=f),
        "rounding": lambda f: rounding(filters=f),
        "value_treemap": lambda f: value_treemap(filters=f),
        "related_entities (a contractor's)": lambda f: related_entities(
            filters=f, dimension="contractor", name=contractor, target="organization"
        ),
        "related_entities (an area's)": lambda f: related_entities(
            filters=f, dimension="area", name="Metro Manila", target="contractor"
        ),
    }
    print(f"\n{args.rows:,} contracts; {args.samples} calls per row; times in ms\n")
    print(f"{'analysis':<36}{'filters':<17}{'engine':<10}{'median':>9}{'p90':>9}{'p99':>9}{'x baseline':>12}")
    for name, chips in chosen.items():
        serializer = FiltersSerializer(data=chips)
        serializer.is_valid(raise_exception=True)
        chosen = serializer.validated_data
        baseline = timed(lambda chosen=chosen: filter_contracts(chosen).count(), args.samples)
        base = statistics.median(baseline)
        print(
            f"{'baseline: count(*)':<36}{name:<17}{'database':<10}{base:>9.1f}"
            f"{percentile(baseline, 90):>9.1f}{percentile(baseline, 99):>9.1f}{1:>12.1f}"
        )
        for engine in args.engines.split(","):
            with override_settings(COLUMNAR_ENABLED=engine == "columnar"):
                for label, run in analyses.items():
                    samples = timed(lambda run=run, chosen=chosen: run(chosen), args.samples)
                    median = statistics.median(samples)
                    print(
                        f"{label:<36}{name:<17}{engine:<10}{median:>9.1f}{percentile(samples, 90):>9.1f}"
                        f"{percentile(samples, 99):>9.1f}{median / base:>12.1f}",
                        flush=True,
                    )


if __name__ == "__main__":
    main()
