"""Reads of saved searches, always scoped to their owner, and the shapes the API returns."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import OuterRef, QuerySet, Subquery
from django.urls import reverse

from contracts.filters import ContractFilters
from contracts.selectors import contract_search
from contracts.selectors.formatting import money
from data_processing.events import SAVED_SEARCH_NEWS_TYPE

from .exceptions import SavedSearchNotFound
from .models import SavedSearch, SavedSearchRun
from .schedules import next_scheduled_run


def saved_search_get_for_owner(*, owner: AbstractBaseUser, saved_search_id: int) -> SavedSearch:
    """The caller's saved search; another user's is "not found", so ids reveal nothing."""
    saved_search = (
        SavedSearch.objects.select_related("periodic_task__interval", "periodic_task__crontab")
        .filter(id=saved_search_id, owner=owner)
        .first()
    )
    if saved_search is None:
        raise SavedSearchNotFound("No saved search of yours has this id.")
    return saved_search


def saved_search_list_for_owner(*, owner: AbstractBaseUser) -> QuerySet[SavedSearch]:
    latest = SavedSearchRun.objects.filter(saved_search=OuterRef("pk")).order_by("-id").values("id")[:1]
    return (
        SavedSearch.objects.filter(owner=owner)
        .select_related("periodic_task__interval", "periodic_task__crontab")
        .annotate(latest_run_id=Subquery(latest))
    )


def run_get(*, saved_search: SavedSearch, run_id: int) -> SavedSearchRun:
    run = saved_search.runs.select_related("job").filter(id=run_id).first()
    if run is None:
        raise SavedSearchNotFound("This saved search has no run with this id.")
    return run


def saved_searches_detail(saved_searches: list[SavedSearch]) -> list[dict[str, Any]]:
    """Searches from saved_search_list_for_owner with their latest runs, in one more query."""
    runs = SavedSearchRun.objects.select_related("job").in_bulk(
        [s.latest_run_id for s in saved_searches if s.latest_run_id is not None]
    )
    return [saved_search_detail(s, runs.get(s.latest_run_id)) for s in saved_searches]


def saved_search_latest_run(saved_search: SavedSearch) -> SavedSearchRun | None:
    return saved_search.runs.select_related("job").order_by("-id").first()


def saved_search_detail(saved_search: SavedSearch, latest_run: SavedSearchRun | None) -> dict[str, Any]:
    return {
        "id": saved_search.id,
        "name": saved_search.name,
        "kind": saved_search.kind,
        "request": saved_search.request,
        "every_seconds": saved_search.every_seconds,
        "crontab": saved_search.crontab,
        "run_after_import": saved_search.run_after_import,
        "created_at": saved_search.created_at,
        "updated_at": saved_search.updated_at,
        "last_run": latest_run.created_at if latest_run else None,
        "next_scheduled_run": next_scheduled_run(saved_search.periodic_task),
        "latest_run": run_detail(latest_run) if latest_run else None,
    }


def run_detail(run: SavedSearchRun) -> dict[str, Any]:
    job = run.job
    return {
        "id": run.id,
        "trigger": run.trigger,
        "created_at": run.created_at,
        "task_id": str(job.id) if job else None,
        "job_state": job.state if job else None,
        "cache_key": job.cache_key if job else None,
        "matched_count": run.matched_count,
        "total_amount": money(run.total_amount),
        "new_count": run.new_count,
        "count_change": run.count_change,
        "total_change": money(run.total_change),
        "new_contracts_url": reverse(
            "saved-search-new-contracts", kwargs={"saved_search_id": run.saved_search_id, "run_id": run.id}
        ),
    }


def run_event(run: SavedSearchRun) -> dict[str, Any]:
    """The websocket message telling the owner that a run found new contracts."""
    return {
        "type": SAVED_SEARCH_NEWS_TYPE,
        "saved_search_id": run.saved_search_id,
        "name": run.saved_search.name,
        "run_id": run.id,
        "task_id": str(run.job_id) if run.job_id else None,
        "new_count": run.new_count,
        "new_contracts_url": reverse(
            "saved-search-new-contracts", kwargs={"saved_search_id": run.saved_search_id, "run_id": run.id}
        ),
    }


def run_new_contracts(
    *, run: SavedSearchRun, filters: ContractFilters, page: int, page_size: int, ordering: str
) -> dict[str, Any]:
    """One page of the contracts this run found new (none on a first run)."""
    low = run.since_watermark if run.since_watermark is not None else run.contract_watermark
    return contract_search(
        filters=filters,
        page=page,
        page_size=page_size,
        ordering=ordering,
        id_range=(low, run.contract_watermark),
    )
