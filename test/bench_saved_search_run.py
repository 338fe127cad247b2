#!/usr/bin/env python
"""What a saved-search run adds to its job: the bookkeeping of "what changed" on 1,000,000
generated contracts, beside the search and analytics queries the job itself runs.

Not a test: a benchmark that prints figures. It creates (once) the database
`philgeps_bench_saved` (or `--database`), generates the contracts into it and builds their
columnar snapshot, then times, in this process and for a handful of filter sets, a run's
bookkeeping (`saved_searches.services.run_changes`: the id watermark, the matching count and
total, the count of contracts new since a previous run whose watermark is 1,000 contracts
back) against the search page and the analytics aggregates of the same filters, measured in
the same run, on the snapshot and, with `--engines columnar,database`, on the database alone.

    .venv/bin/python test/bench_saved_search_run.py [--database NAME] [--rows N] [--samples N]
"""

from __future__ import annotations

import argparse
import statistics
import time

from bench_chip_endpoints import (  # this script's folder is on sys.path
    filter_sets,
    percentile,
    setup_django_on,
    timed,
)

NEW_SINCE_PREVIOUS_RUN = 1_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default="philgeps_bench_saved")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=15)
    parser.add_argument("--engines", default="columnar", help="columnar,database")
    args = parser.parse_args()
    setup_django_on(args.database, args.rows)
    from django.db.models import Max
    from django.test import override_settings

    from contracts.columnar import build_snapshot
    from contracts.models import Contract
    from contracts.selectors import contract_aggregates, contract_search
    from contracts.serializers import ChipSearchRequestSerializer
    from saved_searches.models import SavedSearchRun
    from saved_searches.services import run_changes

    # Without it the first queries would build it lazily and be answered by the database.
    started = time.perf_counter()
    build_snapshot()
    print(f"columnar snapshot ready in {time.perf_counter() - started:.1f} s")
    highest = Contract.objects.aggregate(highest=Max("id"))["highest"]
    previous = SavedSearchRun(
        contract_watermark=highest - NEW_SINCE_PREVIOUS_RUN, matched_count=0, total_amount=0
    )
    chosen = filter_sets(args.database)  # one look-up of the contractor, not one per engine
    print(f"{args.rows:,} contracts; {args.samples} samples each; times in ms (median / p90)")
    for engine in args.engines.split(","):
        print(f"\nengine: {engine}")
        print(f"{'filters':<18}{'search page':>16}{'analytics':>16}{'run bookkeeping':>20}{'new':>8}")
        with override_settings(COLUMNAR_ENABLED=engine == "columnar"):
            for name, chips in chosen.items():
                serializer = ChipSearchRequestSerializer(data={"filters": chips})
                serializer.is_valid(raise_exception=True)
                filters = serializer.validated_data["filters"]
                search = timed(lambda filters=filters: contract_search(filters=filters), args.samples)
                analytics = timed(
                    lambda filters=filters: contract_aggregates(filters=filters), max(3, args.samples // 3)
                )
                bookkeeping = timed(
                    lambda filters=filters: run_changes(filters=filters, previous=previous), args.samples
                )
                new = run_changes(filters=filters, previous=previous)["new_count"]
                cells = [
                    f"{statistics.median(t):7.1f} / {percentile(t, 90):6.1f}"
                    for t in (search, analytics, bookkeeping)
                ]
                print(f"{name:<18}{cells[0]:>16}{cells[1]:>16}{cells[2]:>20}{new:>8,}", flush=True)


if __name__ == "__main__":
    main()
