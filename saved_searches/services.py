"""Saved searches: create, edit, delete, run, and queue the runs an import calls for.

A run is an ordinary job of the owner's, submitted through the job service like any other;
beside it the run records what changed since the previous run (see models.py for why a
watermark is enough). Runs, edits and deletes of one saved search are serialised by its row
lock, so a scheduled run and an after-import run never both claim the same new contracts,
and a delete never races a run being recorded. One user's saves and renames are serialised
by the user's row lock, which holds the per-user limit and unique names under concurrency.
"""

from __future__ import annotations

import logging
import random
from collections import defaultdict
from dataclasses import dataclass
from itertools import chain, zip_longest
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import F, Max

from contracts.filters import ContractFilters
from contracts.models import DatasetVersion
from contracts.selectors.totals import matching_totals
from data_processing import events, metrics
from data_processing.job_rows import lock_owner
from data_processing.registry import job_kind
from data_processing.services import job_submit

from .exceptions import SavedSearchLimitReached, SavedSearchNameTaken, SavedSearchNotFound
from .models import RunTrigger, SavedSearch, SavedSearchRun
from .schedules import periodic_task_sync
from .selectors import run_event

logger = logging.getLogger(__name__)

EDITABLE_FIELDS = ("name", "kind", "request", "every_seconds", "crontab", "run_after_import")


@transaction.atomic
def saved_search_create(*, owner: AbstractBaseUser, **fields: Any) -> SavedSearch:
    """Save a validated request under a name, with its schedule (fields: EDITABLE_FIELDS)."""
    # One user's saves are checked one after another, or concurrent ones would all pass the
    # count and the name check before any of them inserted.
    lock_owner(owner.pk)
    if SavedSearch.objects.filter(owner=owner).count() >= settings.SAVED_SEARCH_MAX_PER_USER:
        raise SavedSearchLimitReached(
            f"You have {settings.SAVED_SEARCH_MAX_PER_USER} saved searches, the most allowed; "
            "delete one first."
        )
    _check_name_free(owner=owner, name=fields["name"])
    saved_search = SavedSearch.objects.create(owner=owner, **_schedule_normalised(fields))
    periodic_task_sync(saved_search)
    return saved_search


@transaction.atomic
def saved_search_update(*, saved_search: SavedSearch, **changes: Any) -> SavedSearch:
    """Change some of EDITABLE_FIELDS; an interval replaces a crontab and the other way round."""
    saved_search = _locked(saved_search)
    if "name" in changes and changes["name"] != saved_search.name:
        lock_owner(saved_search.owner_id)
        _check_name_free(owner=saved_search.owner, name=changes["name"])
    if changes.get("every_seconds"):
        changes["crontab"] = ""
    elif changes.get("crontab"):
        changes["every_seconds"] = None
    for field, value in _schedule_normalised(changes).items():
        setattr(saved_search, field, value)
    saved_search.save()
    periodic_task_sync(saved_search)
    return saved_search


@transaction.atomic
def saved_search_delete(*, saved_search: SavedSearch) -> None:
    """Delete the search and its runs (receivers.delete_beat_entry drops its beat entry);
    the jobs it ran stay in My jobs."""
    _locked(saved_search).delete()


def _locked(saved_search: SavedSearch) -> SavedSearch:
    """The search's row as it is now, locked (``_locked_row``); 404 if it went meanwhile."""
    locked = _locked_row(saved_search.id)
    if locked is None:
        raise SavedSearchNotFound("No saved search of yours has this id.")
    return locked


def _locked_row(saved_search_id: int) -> SavedSearch | None:
    """The search's row (with its owner) as it is now, locked until the transaction ends.
    Edits, deletes and runs of one search then happen one after another, each seeing what
    the one before left: two edits cannot both create its beat entry, and a delete cannot
    miss a run being recorded (whose row would then block it)."""
    return (
        SavedSearch.objects.select_for_update(of=("self",))
        .select_related("owner")
        .filter(id=saved_search_id)
        .first()
    )


def _check_name_free(*, owner: AbstractBaseUser, name: str) -> None:
    if SavedSearch.objects.filter(owner=owner, name=name).exists():
        raise SavedSearchNameTaken(
            "You already have a saved search with this name.", errors={"name": ["Choose another name."]}
        )


def _schedule_normalised(fields: dict[str, Any]) -> dict[str, Any]:
    fields = {key: value for key, value in fields.items() if key in EDITABLE_FIELDS}
    if "crontab" in fields:
        fields["crontab"] = " ".join((fields["crontab"] or "").split())
    return fields


def saved_search_run(*, saved_search_id: int, trigger: str, firing: str = "") -> SavedSearchRun | None:
    """Run a saved search: submit its job and record what changed; None if it was deleted or
    its owner deactivated (an account that cannot log in spends no worker's time).

    ``firing`` names the broker message that asked for the run: a broker may deliver a
    message again (after a lost acknowledgement, say), and a firing already recorded
    returns its run instead of running twice.
    """
    with transaction.atomic():
        saved_search = _locked_row(saved_search_id)
        if saved_search is None or not saved_search.owner.is_active:
            return None
        # Under the row lock: a second delivery running at the same time waits for the first
        # to commit, then finds its run here.
        if firing and (recorded := saved_search.runs.filter(firing=firing).first()):
            logger.info("Saved search %s: firing %s already ran", saved_search_id, firing)
            return recorded
        params = job_kind(saved_search.kind).parse(saved_search.request)
        previous = saved_search.runs.order_by("-id").first()
        changes = run_changes(filters=params["filters"], previous=previous)
        submission = job_submit(
            owner=saved_search.owner, kind=saved_search.kind, payload=saved_search.request
        )
        run = SavedSearchRun.objects.create(
            saved_search=saved_search, job=submission.job, trigger=trigger, firing=firing, **changes
        )
        _runs_prune(saved_search)
    metrics.SAVED_SEARCH_RUNS.labels(trigger).inc()
    if run.new_count:
        events.publish_event(
            saved_search.owner_id, run_event(run), label=f"news of saved search {saved_search.id}"
        )
    return run


def run_changes(*, filters: ContractFilters, previous: SavedSearchRun | None) -> dict[str, Any]:
    """What a run records: its watermark, the matching count and total, and what changed
    since the previous run (the new contracts, the change in count and total)."""
    # Everything is bounded by the watermark (see matching_totals), so a contract committed
    # meanwhile is left to the next run rather than counted by neither.
    since = previous.contract_watermark if previous is not None else None
    totals = matching_totals(filters=filters, since=since)
    changes = {
        "contract_watermark": totals.watermark,
        "matched_count": totals.count,
        "total_amount": totals.total,
    }
    if previous is None:
        return changes
    return {
        **changes,
        "since_watermark": previous.contract_watermark,
        "new_count": totals.new_count,
        "count_change": totals.count - previous.matched_count,
        "total_change": totals.total - previous.total_amount,
    }


def _runs_prune(saved_search: SavedSearch) -> None:
    """Keep the newest SAVED_SEARCH_RUNS_KEPT runs: a saved search's history stays bounded."""
    stale = saved_search.runs.order_by("-id").values_list("id", flat=True)[settings.SAVED_SEARCH_RUNS_KEPT :]
    SavedSearchRun.objects.filter(id__in=list(stale)).delete()


def saved_searches_after_import() -> list[int]:
    """The saved searches to run after an import, in the order to queue them.

    At most SAVED_SEARCH_IMPORT_RUNS_PER_USER per user (those that ran longest ago first),
    taken in turns across users so that one user with many never delays the others.
    """
    searches = (
        SavedSearch.objects.filter(run_after_import=True, owner__is_active=True)
        .annotate(last_run=Max("runs__created_at"))
        .order_by("owner_id", F("last_run").asc(nulls_first=True), "id")
        .values_list("id", "owner_id")
    )
    per_user: dict[int, list[int]] = defaultdict(list)
    for search_id, owner_id in searches.iterator():
        if len(per_user[owner_id]) < settings.SAVED_SEARCH_IMPORT_RUNS_PER_USER:
            per_user[owner_id].append(search_id)
    turns = zip_longest(*per_user.values())
    return [search_id for search_id in chain.from_iterable(turns) if search_id is not None]


# How far ahead the fan-out queues runs. A message waiting out its countdown sits in a worker
# unacknowledged, and the Redis broker hands out again any message unacknowledged for its
# visibility timeout (CELERY_BROKER_TRANSPORT_OPTIONS; 20 minutes by default), so a run
# queued hours ahead, behind hundreds of others, would run again and again. The fan-out
# queues the runs due within this window and then itself, with the rest, for when the
# window ends.
FAN_OUT_WINDOW_SECONDS = 60.0


def saved_searches_queue_after_import(
    search_ids: list[int] | None = None,
    *,
    version: int | None = None,
    window: float = FAN_OUT_WINDOW_SECONDS,
) -> int:
    """Queue the after-import runs due within one window and, behind them, this fan-out
    again with the rest; returns how many runs this call queued. ``search_ids`` is an earlier
    window's rest (None: choose the searches now); ``version`` is the dataset version the
    import made (None: the current one)."""
    from .tasks import queue_after_import_task, run_saved_search_task

    if search_ids is None:
        search_ids = saved_searches_after_import()
    if version is None:
        version = DatasetVersion.current()
    plan = fan_out_plan(search_ids, spacing=settings.SAVED_SEARCH_IMPORT_SPACING_SECONDS, window=window)
    for search_id, countdown in plan.runs:
        run_saved_search_task.apply_async(
            args=[search_id],
            kwargs={"trigger": RunTrigger.IMPORT},
            countdown=countdown,
            task_id=after_import_firing(search_id, version),
        )
    if plan.rest:
        queue_after_import_task.apply_async(
            args=[plan.rest], kwargs={"version": version}, countdown=plan.rest_after
        )
    return len(plan.runs)


def after_import_firing(search_id: int, version: int) -> str:
    """The one firing of a search's run after the import that made ``version``: a fan-out
    that runs twice (its worker killed part-way) queues the same messages again, and each
    run after the first finds its firing recorded."""
    return f"saved-search-{search_id}-after-import-v{version}"


@dataclass(frozen=True)
class FanOutPlan:
    runs: list[tuple[int, float]]  # (saved search id, countdown in seconds)
    rest: list[int]
    rest_after: float  # seconds until the rest's window begins


def fan_out_plan(search_ids: list[int], *, spacing: float, window: float) -> FanOutPlan:
    """One run every ``spacing`` seconds (jittered within its slot), as many as fit in
    ``window``; at least one, so a window shorter than the spacing still moves on. No
    spacing (or a negative one) queues every run at once."""
    spacing = max(spacing, 0.0)
    per_window = max(1, int(window // spacing)) if spacing > 0 else len(search_ids)
    now = search_ids[:per_window]
    runs = [(search_id, (slot + random.random()) * spacing) for slot, search_id in enumerate(now)]
    return FanOutPlan(runs=runs, rest=search_ids[per_window:], rest_after=len(now) * spacing)
