"""The Saved searches tab in a real browser: save the current filters with a schedule, see the
last and next run, get a live "2 new" badge (and a mark on the tab while another is shown)
when a run finds new contracts, open them (in the
Search results tab), edit the schedule, delete."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from dashboard_page import assert_no_errors_at_all, log_in, open_tab, panel, tab
from job_helpers import wait_for_state, wait_until

from contracts.models import Area, Contract, Contractor, Organization
from data_processing.models import JobState
from saved_searches import services
from saved_searches.models import RunTrigger, SavedSearch

sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
expect = sync_api.expect

pytestmark = [pytest.mark.browser, pytest.mark.integration]


def add_road_contracts(*refs: str) -> None:
    for ref in refs:
        Contract.objects.create(
            reference_id=ref,
            title=f"Rehabilitation of national road {ref}",
            contractor=Contractor.objects.get(name="ACME BUILDERS"),
            organization=Organization.objects.get(name="CITY OF DIGOS"),
            area=Area.objects.get(name="Cebu"),
            amount=Decimal("5000000"),
            award_date=dt.date(2024, 5, 1),
        )


def test_save_the_current_search_then_see_what_is_new_live(page, alice, dataset, shot):
    log_in(page)
    saved = open_tab(page, "Saved searches")
    expect(saved.get_by_text("No saved searches yet.")).to_be_visible()

    keywords = page.get_by_role("textbox", name="Keywords")
    keywords.fill("road")
    keywords.press("Enter")
    saved.get_by_label("Name").fill("Road works")
    saved.get_by_role("button", name="Save this search").click()
    expect(saved.get_by_role("status").first).to_have_text('Saved "Road works".')
    item = saved.locator(".saved-item")
    expect(item).to_contain_text("Runs every day and after each import.")
    expect(item).to_contain_text("Last run: never")
    expect(item).to_contain_text("Next run:")
    search = SavedSearch.objects.get(owner=alice, name="Road works")
    assert search.request["filters"]["keywords"] == ["road"]

    # Run now: an ordinary job; the panel follows it to its end, then Open shows its result.
    item.get_by_role("button", name="Run Road works now").click()
    run = wait_until(lambda: search.runs.first(), what="the run")
    wait_for_state(str(run.job_id), JobState.SUCCESS)
    expect(item).to_contain_text("(success, 80 contracts)")
    item.get_by_role("button", name="Open Road works").click()
    results = panel(page, "Search results")
    expect(tab(page, "Search results")).to_have_attribute("aria-selected", "true")
    expect(results.get_by_role("heading", name="Search results")).to_be_focused()
    expect(results.get_by_role("status")).to_have_text("Result of an earlier job.")

    # New contracts, and a run that finds them: the badge arrives over the websocket.
    add_road_contracts("NEW-ROAD-1", "NEW-ROAD-2")
    services.saved_search_run(saved_search_id=search.id, trigger=RunTrigger.IMPORT)
    # It arrives while the Search results tab is shown: the Saved searches tab says so...
    expect(tab(page, "Saved searches")).to_have_attribute("data-state", "new")
    expect(tab(page, "Saved searches")).to_contain_text("(new results)")
    open_tab(page, "Saved searches")
    # ...until it is looked at.
    expect(tab(page, "Saved searches")).not_to_have_attribute("data-state", "new")
    badge = item.get_by_role("button", name="Show 2 new contracts of Road works")
    expect(badge).to_have_text("2 new")
    shot(page, "saved-searches-new-badge")

    badge.click()
    expect(tab(page, "Search results")).to_have_attribute("aria-selected", "true")
    expect(results.get_by_role("status")).to_have_text('2 new in "Road works" since its previous run.')
    rows = results.locator("table[data-results=search] tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("NEW-ROAD")
    shot(page, "saved-searches-new-contracts")

    # Edit the schedule: a crontab on weekday mornings instead of daily.
    open_tab(page, "Saved searches")
    item.get_by_role("button", name="Edit schedule of Road works").click()
    editor = item.get_by_role("form", name="Schedule of Road works")
    editor.get_by_label("Schedule").select_option("crontab")
    editor.get_by_label("Crontab").fill("30 7 * * 1-5")
    editor.get_by_role("button", name="Save schedule").click()
    expect(item).to_contain_text('Runs crontab "30 7 * * 1-5" and after each import.')
    search.refresh_from_db()
    assert (search.crontab, search.every_seconds) == ("30 7 * * 1-5", None)

    delete = item.get_by_role("button", name="Delete Road works")
    delete.click()
    expect(delete).to_have_text("Press again to delete")
    delete.click()
    expect(saved.get_by_text("No saved searches yet.")).to_be_visible()
    assert not SavedSearch.objects.filter(owner=alice).exists()
    assert_no_errors_at_all(page)
