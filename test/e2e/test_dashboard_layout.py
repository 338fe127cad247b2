"""The dashboard shows what you pressed: the answer to an action comes into view with focus on
it, a panel shows only its current job, tables and numbers fit their boxes, the actions are
on screen without scrolling, and there is a favicon. Real browser, real stack."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from dashboard_page import (
    add_keyword,
    assert_no_errors_at_all,
    assert_no_page_errors,
    log_in,
    open_tab,
    panel,
    tab,
)
from job_helpers import wait_for_blocked_worker

from contracts.models import Area, BusinessCategory, Contract, Contractor, Organization
from data_processing import services
from data_processing.models import Job

sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
expect = sync_api.expect

pytestmark = [pytest.mark.browser, pytest.mark.integration]

DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 375, "height": 812}
VIEWPORTS = [pytest.param(DESKTOP, id="desktop"), pytest.param(PHONE, id="phone")]
# (button, its tab and panel heading, the first thing of its answer)
ACTIONS = (
    ("Search", "Search results", "table[data-results=search]"),
    ("Analytics", "Analytics", "dl.totals"),
    ("Entity table", "Entity table", "table[data-results=entities]"),
    ("Export", "Export", "a[data-download]"),
)
# Every button of the action bar (Red flags runs four jobs at once: see test_red_flags.py).
ACTION_BUTTONS = (*(button for button, _, _ in ACTIONS), "Red flags")
# A title as procurement titles often are: one long run without spaces.
SLASHED_TITLE = "SUPPLY/DELIVERY/INSTALLATION/TESTING/COMMISSIONING/OF/SOLAR-POWERED/STREETLIGHTS/PHASE-II"
LONG_TITLE = (
    "Construction of multi-purpose building including site development, drainage, perimeter fence "
    "and electrical works for the barangay health center and day care center"
)


def width_and_box(locator) -> dict:
    return locator.evaluate(
        "(el) => ({scroll: el.scrollWidth, client: el.clientWidth, height: el.clientHeight})"
    )


def no_sideways_page_scroll(page, viewport) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= viewport["width"], f"the page is {width}px wide in a {viewport['width']}px window"


@pytest.fixture
def wide_contracts(live_db) -> int:
    """60 contracts with long names, slashed titles and eleven-digit amounts."""
    contractors = [
        Contractor.objects.create(
            name=f"GOLDEN MINDANAO INTEGRATED CONSTRUCTION AND DEVELOPMENT CORPORATION {n}"
        )
        for n in range(3)
    ]
    organization = Organization.objects.create(
        name="DEPARTMENT OF PUBLIC WORKS AND HIGHWAYS - REGION XI - DAVAO CITY DISTRICT ENGINEERING OFFICE"
    )
    # Areas of delivery can list dozens of places (the longest seen runs to 819 characters).
    area = Area.objects.create(
        name=", ".join(["Davao del Sur", "Davao del Norte", "Cotabato", "Bukidnon"] * 15)
    )
    category = BusinessCategory.objects.create(name="Construction Projects")
    Contract.objects.bulk_create(
        Contract(
            reference_id=f"PB-2024-{i:08d}",
            title=SLASHED_TITLE if i % 2 else LONG_TITLE,
            contractor=contractors[i % 3],
            organization=organization,
            area=area,
            business_category=category,
            amount=Decimal("98765432109.87") - i,
            award_date=dt.date(2024, 1 + i % 12, 1 + i % 28),
        )
        for i in range(60)
    )
    return 60


@pytest.fixture
def costly_contracts(live_db) -> None:
    """Three contracts of nearly a trillion pesos each: totals of thirteen digits."""
    contractor = Contractor.objects.create(name="ACME BUILDERS")
    organization = Organization.objects.create(name="CITY OF DIGOS")
    Contract.objects.bulk_create(
        Contract(
            reference_id=f"AW-{i:06d}",
            title=f"Flood control megaproject #{i}",
            contractor=contractor,
            organization=organization,
            amount=Decimal("987654321098.76"),
            award_date=dt.date(2024, 3, 1 + i),
        )
        for i in range(3)
    )


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_the_actions_are_on_screen_without_scrolling_and_there_is_a_favicon(open_page, alice, viewport, shot):
    page = open_page(viewport)
    log_in(page)
    assert page.evaluate("window.scrollY") == 0
    for name in ACTION_BUTTONS:
        button = page.get_by_role("button", name=name, exact=True)
        box = button.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"], (name, box)
        assert box["y"] >= 0 and box["y"] + box["height"] <= viewport["height"], (name, box)
        # On top, not under another element: the click lands on the button.
        on_top = button.evaluate(
            "(b) => { const r = b.getBoundingClientRect();"
            " return b.contains(document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2)); }"
        )
        assert on_top, f"{name} is covered"
    shot(page, f"actions-in-view-{'phone' if viewport is PHONE else 'desktop'}")

    icon = page.request.get(page.locator("link[rel=icon]").get_attribute("href"))
    assert icon.status == 200
    assert icon.headers["content-type"].startswith("image/svg+xml")
    favicon = page.request.get("/favicon.ico", max_redirects=1)
    assert favicon.status == 200
    assert favicon.body() == icon.body()
    assert_no_errors_at_all(page)


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_each_action_brings_its_own_answer_into_view_with_focus_on_it(
    open_page, alice, dataset, viewport, shot
):
    page = open_page(viewport)
    log_in(page)
    for button, heading, answer_selector in ACTIONS:
        # Wherever the user has scrolled to (the bottom of the page here), the answer comes to them.
        page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
        page.get_by_role("button", name=button, exact=True).click()

        answer = panel(page, heading)
        expect(tab(page, heading)).to_have_attribute("aria-selected", "true")
        expect(answer.get_by_role("heading", name=heading)).to_be_focused()
        expect(answer.get_by_role("progressbar")).to_be_in_viewport(ratio=1)
        expect(answer.get_by_role("status")).to_contain_text("complete")
        expect(answer.get_by_role("progressbar")).to_be_in_viewport(ratio=1)
        expect(answer.locator(answer_selector)).to_be_in_viewport()
        # One answer on screen at a time.
        expect(page.get_by_role("tabpanel")).to_have_count(1)
        no_sideways_page_scroll(page, viewport)
        shot(
            page, f"pressed-{button.lower().replace(' ', '-')}-{'phone' if viewport is PHONE else 'desktop'}"
        )
    assert_no_errors_at_all(page)


def test_showing_an_earlier_result_from_my_jobs_brings_its_tab_forward(page, alice, dataset):
    log_in(page)
    page.get_by_role("button", name="Analytics", exact=True).click()
    expect(panel(page, "Analytics").get_by_role("status")).to_contain_text("complete")
    page.get_by_role("button", name="Search", exact=True).click()
    expect(panel(page, "Search results").get_by_role("status")).to_contain_text("complete")

    jobs = open_tab(page, "My jobs")
    jobs.get_by_role("button", name="Show analytics result").click()
    analytics = panel(page, "Analytics")
    expect(tab(page, "Analytics")).to_have_attribute("aria-selected", "true")
    expect(analytics.get_by_role("heading", name="Analytics")).to_be_focused()
    expect(analytics.get_by_role("status")).to_have_text("Result of an earlier job.")
    expect(analytics.locator("[data-total=count] dd")).to_have_text("240")
    expect(page.get_by_role("tabpanel")).to_have_count(1)
    assert_no_page_errors(page)


def test_the_tabs_follow_the_arrow_keys(page, alice):
    log_in(page)
    tab(page, "Search results").focus()
    page.keyboard.press("ArrowRight")
    expect(tab(page, "Analytics")).to_be_focused()
    expect(tab(page, "Analytics")).to_have_attribute("aria-selected", "true")
    expect(panel(page, "Analytics")).to_be_visible()
    expect(panel(page, "Search results")).to_have_count(0)
    page.keyboard.press("End")
    expect(tab(page, "Saved searches")).to_be_focused()
    expect(panel(page, "Saved searches")).to_be_visible()
    page.keyboard.press("ArrowRight")  # wraps round
    expect(tab(page, "Search results")).to_be_focused()
    page.keyboard.press("ArrowLeft")
    expect(tab(page, "Saved searches")).to_be_focused()
    page.keyboard.press("ArrowLeft")
    expect(tab(page, "My jobs")).to_be_focused()
    expect(panel(page, "My jobs")).to_be_visible()
    page.keyboard.press("Home")
    expect(tab(page, "Search results")).to_have_attribute("aria-selected", "true")
    # The answers' tabs in the order of the action bar, then My jobs and Saved searches.
    tabs = page.get_by_role("tab")
    assert [re.sub(r" \(.*\)$", "", name) for name in tabs.all_inner_texts()] == [
        "Search results",
        "Analytics",
        "Entity table",
        "Export",
        "Red flags",
        "Drill-down",
        "My jobs",
        "Saved searches",
    ]
    # Only the selected tab is in the Tab order.
    assert tabs.evaluate_all("(tabs) => tabs.map((t) => t.tabIndex)") == [0] + [-1] * 7
    assert_no_errors_at_all(page)


def test_a_cancelled_export_offers_no_download_of_the_previous_export(page, alice, dataset, table_lock, shot):
    log_in(page)
    page.get_by_role("button", name="Export", exact=True).click()
    export = panel(page, "Export")
    expect(export.get_by_role("link", name=re.compile(r"^Download CSV \(240 contracts"))).to_be_visible()

    add_keyword(page, "road")
    with table_lock():
        page.get_by_role("button", name="Export", exact=True).click()
        wait_for_blocked_worker()
        # The previous file goes as soon as the new export starts ...
        expect(export.get_by_role("link")).to_have_count(0)
        export.get_by_role("button", name="Cancel").click()
        expect(export.get_by_role("status")).to_have_text("Export cancelled.")
        expect(export.get_by_role("alert")).to_have_text("The job was cancelled.")
        # ... and a cancelled export offers none.
        expect(export.get_by_role("link")).to_have_count(0)
        expect(tab(page, "Export")).to_have_attribute("data-state", "cancelled")
        shot(page, "export-cancelled")
    assert_no_page_errors(page)


def test_a_failed_search_shows_no_rows_of_the_previous_search(page, alice, dataset, table_lock, shot):
    log_in(page)
    page.get_by_role("button", name="Search", exact=True).click()
    results = panel(page, "Search results")
    rows = results.locator("table[data-results=search] tbody tr")
    expect(rows).to_have_count(20)

    add_keyword(page, "paper")
    with table_lock():
        page.get_by_role("button", name="Search", exact=True).click()
        wait_for_blocked_worker()
        expect(rows).to_have_count(0)
        # The worker is stuck on the lock; the job fails the way a worker fails it.
        job = Job.objects.filter(owner=alice, kind="search").latest("created_at")
        services.job_fail(str(job.id), "The database connection was lost.")

        expect(results.get_by_role("status")).to_have_text("Search failed.")
        expect(results.get_by_role("alert")).to_have_text("The job failed: The database connection was lost.")
        expect(rows).to_have_count(0)
        expect(results.get_by_role("navigation")).to_have_count(0)
        expect(tab(page, "Search results")).to_have_attribute("data-state", "failed")
        shot(page, "search-failed")
    assert_no_page_errors(page)


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_tables_fit_their_box_and_amounts_are_never_cut(open_page, alice, wide_contracts, viewport, shot):
    page = open_page(viewport)
    name = "phone" if viewport is PHONE else "desktop"
    log_in(page)
    page.get_by_label("Rows per page").select_option("50")
    page.get_by_role("button", name="Search", exact=True).click()
    results = panel(page, "Search results")
    expect(results.locator("table[data-results=search] tbody tr")).to_have_count(50)

    box = results.locator(".table-wrap")
    size = width_and_box(box)
    assert size["scroll"] <= size["client"], (
        f"the results table is {size['scroll']}px wide in a {size['client']}px box"
    )
    cut = results.locator("td.num").evaluate_all(
        "(cells) => cells.filter((c) => c.scrollWidth > c.clientWidth).map((c) => c.textContent)"
    )
    assert cut == [], f"amounts cut: {cut}"
    # A long table scrolls inside its box, which stays within the window.
    assert size["height"] <= viewport["height"]
    no_sideways_page_scroll(page, viewport)
    shot(page, f"search-long-names-{name}")

    if viewport is DESKTOP:
        expect(results.get_by_role("columnheader", name="Amount")).to_be_in_viewport(ratio=1)
        box.evaluate("(b) => { b.scrollTop = b.scrollHeight; }")
        # The header row stays at the top of the box while the rows scroll under it.
        header_top, box_top = box.evaluate(
            "(b) => [b.querySelector('thead th').getBoundingClientRect().top, b.getBoundingClientRect().top]"
        )
        assert abs(header_top - box_top) <= 2, (header_top, box_top)
        shot(page, f"search-long-names-scrolled-{name}")

    page.get_by_role("button", name="Entity table", exact=True).click()
    entities = panel(page, "Entity table")
    expect(entities.locator("table[data-results=entities] tbody tr")).to_have_count(3)
    box = entities.locator(".table-wrap")
    if viewport is DESKTOP:
        size = width_and_box(box)
        assert size["scroll"] <= size["client"], (
            f"the entity table is {size['scroll']}px wide in a {size['client']}px box"
        )
    # On a phone the box may scroll sideways: scrolled to each amount column, its header shows
    # whole, right of the name column (which stays put), and nothing covers it.
    for column in ("total_amount", "average_amount"):
        shown = entities.locator(f"th[data-column={column}]").evaluate(
            """(th) => {
              const box = th.closest('.table-wrap');
              box.scrollIntoView({ block: 'nearest' });
              const nameRight = box.querySelector('thead th').getBoundingClientRect().right;
              box.scrollLeft += th.getBoundingClientRect().left - nameRight;
              const r = th.getBoundingClientRect(), b = box.getBoundingClientRect(), y = r.top + r.height / 2;
              return r.right <= b.right + 1
                && th.contains(document.elementFromPoint(r.left + 2, y))
                && th.contains(document.elementFromPoint(r.right - 2, y));
            }"""
        )
        assert shown, f"the {column} header cannot be shown whole"
    cut = entities.locator("td.num").evaluate_all(
        "(cells) => cells.filter((c) => c.scrollWidth > c.clientWidth).map((c) => c.textContent)"
    )
    assert cut == [], f"amounts cut: {cut}"
    no_sideways_page_scroll(page, viewport)
    shot(page, f"entity-table-long-names-{name}")
    assert_no_page_errors(page)


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_a_large_total_stays_on_one_line(open_page, alice, costly_contracts, viewport, shot):
    page = open_page(viewport)
    log_in(page)
    page.get_by_role("button", name="Analytics", exact=True).click()
    analytics = panel(page, "Analytics")
    expect(analytics.get_by_role("status")).to_have_text("Analytics complete: 3 contracts.")

    total = analytics.locator("[data-total=total] dd")
    expect(total).to_have_text("₱2,962,962,963,296.28")
    one_line = analytics.locator("[data-total=count] dd").evaluate(
        "(dd) => dd.getBoundingClientRect().height"
    )
    for key in ("total", "average"):
        value = analytics.locator(f"[data-total={key}] dd")
        height = value.evaluate("(dd) => dd.getBoundingClientRect().height")
        assert abs(height - one_line) < 1, f"the {key} is {height}px high, one line is {one_line}px"
        # Nor does it run out of its box or off the panel.
        fits = value.evaluate(
            "(dd) => { const r = dd.getBoundingClientRect(), box = dd.parentElement.getBoundingClientRect(),"
            " p = dd.closest('[role=tabpanel]').getBoundingClientRect();"
            " return r.right <= box.right && box.right <= p.right; }"
        )
        assert fits, f"the {key} overflows its box"
    no_sideways_page_scroll(page, viewport)
    shot(page, f"analytics-large-totals-{'phone' if viewport is PHONE else 'desktop'}")
    assert_no_page_errors(page)
