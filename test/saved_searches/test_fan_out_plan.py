"""How the after-import fan-out spreads runs: never a countdown past its window, whatever
the number of searches (a longer one would outlive the Redis broker's visibility timeout and
be handed out again)."""

from __future__ import annotations

import pytest

from saved_searches.services import fan_out_plan


@pytest.mark.parametrize("count", [0, 1, 29, 30, 31, 2_000])
def test_a_window_holds_the_runs_due_in_it_and_the_rest_waits_for_the_next(count):
    ids = list(range(count))

    plan = fan_out_plan(ids, spacing=2.0, window=60.0)

    assert [search_id for search_id, _ in plan.runs] == ids[:30]
    assert plan.rest == ids[30:]
    assert all(0 <= countdown < 60.0 for _, countdown in plan.runs)
    # Each run keeps its own slot of the spacing, so the order holds and none bunch up.
    for slot, (_, countdown) in enumerate(plan.runs):
        assert slot * 2.0 <= countdown < (slot + 1) * 2.0
    assert plan.rest_after == len(plan.runs) * 2.0


def test_the_windows_together_queue_every_search_once_in_order():
    ids = list(range(95))
    queued, elapsed, start = [], 0.0, []
    while ids:
        plan = fan_out_plan(ids, spacing=2.0, window=60.0)
        queued += [search_id for search_id, _ in plan.runs]
        start += [elapsed + countdown for _, countdown in plan.runs]
        elapsed += plan.rest_after
        ids = plan.rest

    assert queued == list(range(95))
    assert start == sorted(start)


def test_a_window_shorter_than_the_spacing_still_queues_one_run():
    plan = fan_out_plan([7, 8], spacing=90.0, window=60.0)

    assert [search_id for search_id, _ in plan.runs] == [7]
    assert plan.rest == [8]
    assert plan.rest_after == 90.0


@pytest.mark.parametrize("spacing", [0.0, -2.0])
def test_no_spacing_queues_every_run_at_once(spacing):
    plan = fan_out_plan(list(range(500)), spacing=spacing, window=60.0)

    assert [countdown for _, countdown in plan.runs] == [0.0] * 500
    assert plan.rest == []
