"""The dashboard in a real browser, against the real stack, as a user meets it:
log in, submit, watch the progress bar over the websocket (or by polling), see the result;
page, chart, sort, export, cancel; and clear messages when things go wrong."""

from __future__ import annotations

import re
import time

import pytest
from dashboard_page import add_chip_with_keyboard, assert_no_page_errors, log_in, open_tab, panel
from job_helpers import stored_job, wait_for_blocked_worker, wait_for_state

from contracts.models import Contract
from data_processing import services
from data_processing.models import Job, JobState

sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
expect = sync_api.expect

pytestmark = [pytest.mark.browser, pytest.mark.integration]

PHONE = {"width": 375, "height": 812}
CHARTS = (
    "by_year",
    "by_month",
    "top_contractors",
    "top_organizations",
    "top_areas",
    "top_business_categories",
)

# Records every value the search panel's progress bar and message take, so a test can check
# the whole sequence after the fact instead of racing a fast job.
RECORD_PROGRESS = """(panelId) => {
  const panel = document.getElementById(panelId);
  const bar = panel.querySelector("[data-job-progress]");
  const message = panel.querySelector("[data-job-message]");
  window.progressLog = [];
  const record = () => window.progressLog.push(
    {value: Number(bar.getAttribute("aria-valuenow")), message: message.textContent});
  new MutationObserver(record).observe(panel, {
    subtree: true, attributes: true, attributeFilter: ["aria-valuenow"], childList: true, characterData: true,
  });
}"""


def scroll_to_top_of(locator) -> None:
    locator.evaluate("(element) => element.scrollIntoView({block: 'start'})")


def test_an_anonymous_visitor_logs_in_through_the_form_and_lands_on_the_dashboard(
    page, alice, base_url, shot
):
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/$"))
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill("wrong-password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_contain_text("enter a correct username and password")
    shot(page, "login-error")

    page.get_by_label("Password").fill("alice-password")
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(f"{base_url}/")
    expect(page.get_by_text("Signed in as alice")).to_be_visible()
    shot(page, "dashboard-empty")
    expect(open_tab(page, "My jobs").get_by_text("No jobs yet.")).to_be_visible()
    # Static files come from the ASGI app itself (WhiteNoise), DEBUG off.
    assert page.request.get("/static/dashboard/vendor/chart.umd.min.js").ok
    assert page.evaluate("typeof window.Chart") == "function"
    assert_no_page_errors(page)

    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/$"))


def test_a_search_shows_live_progress_then_rows_and_pages_through_them(page, alice, dataset, shot):
    log_in(page)
    add_chip_with_keyboard(page, "Contractors", "acm", "ACME BUILDERS")
    page.get_by_label("Rows per page").select_option("10")
    page.evaluate(RECORD_PROGRESS, "search-panel")

    page.get_by_role("button", name="Search", exact=True).press("Enter")

    results = panel(page, "Search results")
    expect(results.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "100")
    expect(results.get_by_role("status")).to_have_text("Search complete: 20 contracts.")
    rows = results.locator("table[data-results=search] tbody tr")
    expect(rows).to_have_count(10)
    expect(results.get_by_text("Page 1 of 2 · 20 contracts")).to_be_visible()
    log = page.evaluate("window.progressLog")
    assert log[0]["message"] == "Submitting search…", log
    assert log[-1]["value"] == 100, log
    values = [entry["value"] for entry in log]
    assert values == sorted(values), f"progress went backwards: {values}"
    shot(page, "search-results")

    first_row = rows.first.inner_text()
    assert "ACME BUILDERS" in first_row
    results.get_by_role("button", name="Next →").click()
    expect(results.get_by_text("Page 2 of 2 · 20 contracts")).to_be_visible()
    expect(rows).to_have_count(10)
    assert rows.first.inner_text() != first_row
    expect(results.get_by_role("button", name="Next →")).to_be_disabled()
    shot(page, "search-page-2")

    results.get_by_role("button", name="← Previous").click()
    expect(results.get_by_text("Page 1 of 2 · 20 contracts")).to_be_visible()
    expect(results.get_by_role("status")).to_have_text("Search complete: 20 contracts. (from cache)")
    assert rows.first.inner_text() == first_row
    # Every search shows up in My jobs, finished.
    jobs = open_tab(page, "My jobs")
    expect(jobs.locator(".job-item[data-state=SUCCESS]")).to_have_count(2)
    assert_no_page_errors(page)


def test_time_ranges_and_keywords_narrow_the_search(page, alice, dataset, shot):
    log_in(page)
    # January to March 2023: the contracts with i % 12 == 1.
    page.get_by_label("Kind").select_option("quarter")
    page.get_by_label("Year", exact=True).fill("2023")
    page.get_by_label("Quarter").select_option("1")
    page.get_by_role("button", name="Add time range").click()
    expect(page.get_by_role("button", name="Remove time range 2023 Q1")).to_be_visible()

    # A custom span the wrong way round is refused before anything is sent.
    page.get_by_label("Kind").select_option("custom")
    page.get_by_label("From", exact=True).fill("2022-01-31")
    page.get_by_label("To", exact=True).fill("2022-01-01")
    page.get_by_role("button", name="Add time range").click()
    expect(page.locator("#time-ranges-error")).to_have_text("The start date must not be after the end date.")
    expect(page.get_by_label("From", exact=True)).to_have_attribute("aria-invalid", "true")

    # January 2022: the contracts with i % 12 == 0, all of them road works.
    page.get_by_label("From", exact=True).fill("2022-01-01")
    page.get_by_label("To", exact=True).fill("2022-01-31")
    page.get_by_role("button", name="Add time range").click()
    expect(page.get_by_role("button", name="Remove time range 2022-01-01 to 2022-01-31")).to_be_visible()

    page.get_by_role("button", name="Search", exact=True).click()
    results = panel(page, "Search results")
    expect(results.get_by_role("status")).to_have_text("Search complete: 40 contracts.")

    keywords = page.get_by_role("textbox", name="Keywords")
    keywords.fill("road")
    keywords.press("Enter")
    expect(page.get_by_role("button", name="Remove keyword road")).to_be_visible()
    page.get_by_role("button", name="Search", exact=True).click()
    expect(results.get_by_role("status")).to_have_text("Search complete: 20 contracts.")
    expect(results.locator("table[data-results=search] tbody tr").first).to_contain_text("road")
    shot(page, "search-time-ranges-and-keyword")
    assert_no_page_errors(page)


def test_a_procuring_entity_region_is_offered_and_narrows_the_search(page, alice, dataset, shot):
    visayas = "Region VII - Central Visayas"
    ids = list(Contract.objects.order_by("id").values_list("id", flat=True))
    Contract.objects.filter(id__in=ids[::4]).update(organization_region=visayas, organization_province="Cebu")
    log_in(page)

    add_chip_with_keyboard(page, "Procuring entity regions", "vii", visayas)
    page.get_by_role("button", name="Search", exact=True).click()

    results = panel(page, "Search results")
    expect(results.get_by_role("status")).to_have_text(f"Search complete: {dataset // 4} contracts.")
    shot(page, "search-procuring-entity-region")
    assert_no_page_errors(page)


def test_analytics_draws_the_charts_beside_the_totals(page, alice, dataset, shot):
    log_in(page)
    page.get_by_role("button", name="Analytics", exact=True).click()

    analytics = panel(page, "Analytics")
    expect(analytics.get_by_role("status")).to_have_text("Analytics complete: 240 contracts.")
    totals = analytics.get_by_role("definition")
    expect(totals.nth(0)).to_have_text("240")
    expect(totals.nth(1)).to_contain_text("₱")
    expect(totals.nth(3)).to_contain_text("2022")
    for chart in CHARTS:
        canvas = analytics.locator(f"[data-chart={chart}] canvas")
        expect(canvas).to_be_visible()
        assert page.evaluate("(c) => window.Chart.getChart(c) !== undefined", canvas.element_handle())
    expect(analytics.get_by_role("img", name=re.compile(r"^Spend by year chart, 2 entries"))).to_be_visible()
    top_contractors = analytics.locator("[data-chart=top_contractors] canvas").element_handle()
    assert page.evaluate("(c) => window.Chart.getChart(c).data.labels.length", top_contractors) == 10
    shot(page, "analytics")
    assert_no_page_errors(page)


def test_the_entity_table_sorts_by_a_clicked_column_and_pages(page, alice, dataset, contractor_names, shot):
    log_in(page)
    page.get_by_label("Rows per page").select_option("10")
    page.get_by_label("Entity table of").select_option("contractor")
    page.get_by_role("button", name="Entity table", exact=True).click()

    entities = panel(page, "Entity table")
    table = entities.locator("table[data-results=entities]")
    expect(table.locator("tbody tr")).to_have_count(10)
    expect(table.locator("th[data-column=total_amount]")).to_have_attribute("aria-sort", "descending")
    expect(entities.get_by_text("Page 1 of 2 · 12 contractors")).to_be_visible()

    table.get_by_role("button", name=re.compile(r"^Contractor, activate to sort")).click()
    expect(table.locator("th[data-column=name]")).to_have_attribute("aria-sort", "ascending")
    # The table is drawn anew; focus comes back to the button that sorted it.
    expect(table.locator("[data-sort=name]")).to_be_focused()
    names = table.locator("tbody tr th")
    expect(names.first).to_have_text("ACME BUILDERS")
    expect(names).to_have_text(sorted(contractor_names)[:10])

    table.get_by_role("button", name=re.compile(r"^Contractor, sorted ascending")).click()
    expect(table.locator("th[data-column=name]")).to_have_attribute("aria-sort", "descending")
    expect(names).to_have_text(sorted(contractor_names, reverse=True)[:10])
    shot(page, "entity-table-sorted")

    entities.get_by_role("button", name="Next →").click()
    expect(entities.get_by_text("Page 2 of 2 · 12 contractors")).to_be_visible()
    expect(names).to_have_text(sorted(contractor_names, reverse=True)[10:])
    assert_no_page_errors(page)


def test_an_export_ends_with_a_download_link_to_the_csv(page, alice, dataset, shot):
    log_in(page)
    page.get_by_role("button", name="Export", exact=True).click()

    export = panel(page, "Export")
    link = export.get_by_role("link", name=re.compile(r"^Download CSV \(240 contracts"))
    expect(link).to_be_visible()
    expect(export.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "100")
    response = page.request.get(link.get_attribute("href"))
    assert response.status == 200
    assert response.text().splitlines()[0].startswith("Award Reference No.,Award Date")
    assert len(response.text().splitlines()) == 241
    shot(page, "export")
    jobs = open_tab(page, "My jobs")
    expect(jobs.get_by_role("link", name="Download CSV")).to_be_visible()
    assert_no_page_errors(page)


def test_a_running_job_can_be_cancelled_from_my_jobs(page, alice, dataset, table_lock, shot):
    log_in(page)
    with table_lock():
        page.get_by_role("button", name="Analytics", exact=True).click()
        wait_for_blocked_worker()
        expect(panel(page, "Analytics").get_by_role("button", name="Cancel")).to_be_visible()
        shot(page, "job-running")
        jobs = open_tab(page, "My jobs")
        item = jobs.locator(".job-item").first
        expect(item.locator(".badge")).to_have_text("Running")

        item.get_by_role("button", name="Cancel analytics job").click()
        expect(item.locator(".badge")).to_have_text("Cancelled")
        task_id = item.get_attribute("data-task-id")
        analytics = open_tab(page, "Analytics")
        expect(analytics.get_by_role("status")).to_have_text("Analytics cancelled.")
        expect(analytics.get_by_role("alert")).to_have_text("The job was cancelled.")
        shot(page, "job-cancelled")

    assert Job.objects.get(id=task_id).state == JobState.REVOKED
    assert_no_page_errors(page)


def test_failed_and_expired_jobs_say_so_in_my_jobs(page, alice, dataset, shot):
    expired = stored_job(
        alice, "search", {"filters": {}}, state=JobState.SUCCESS, progress=100, message="Found 240 contracts."
    )
    lists = []  # the page's list answers: if the stored job goes missing, were they without it?
    page.on("response", lambda response: "/tasks/?page_size=" in response.url and lists.append(response))
    log_in(page)
    jobs = open_tab(page, "My jobs")

    # A job whose stored parameters are invalid fails in the worker; the page hears of it live.
    failing = stored_job(alice, "search", {"filters": {"page_size": 1000}})
    services.job_enqueue(failing)
    wait_for_state(str(failing.id), JobState.FAILURE)
    failed_item = jobs.locator(f"[data-task-id='{failing.id}']")
    expect(failed_item.locator(".badge")).to_have_text("Failed")
    expect(failed_item.locator("[data-job-error]")).to_contain_text(
        re.compile(r"^Failed: .*filters\.page_size")
    )

    expired_item = jobs.locator(f"[data-task-id='{expired.id}']")
    try:
        expect(expired_item).to_be_visible()
    except AssertionError as missing:
        answered = [[job["task_id"] for job in response.json()["results"]] for response in lists]
        now = [job["task_id"] for job in page.request.get("/api/v1/data-processing/tasks/").json()["results"]]
        raise AssertionError(
            f"job {expired.id} missing; the page's list answers: {answered}; the list now: {now}"
        ) from missing
    expired_item.get_by_role("button", name="Show search result").click()
    expect(expired_item.locator("[data-job-note]")).to_contain_text(
        re.compile(r"^Expired: The result expired")
    )
    shot(page, "failed-and-expired-jobs")
    assert_no_page_errors(page)


def test_a_late_answer_to_an_older_refresh_does_not_undo_a_newer_one(page, alice):
    """My jobs refreshes on load, when the socket opens and on updates, so refreshes overlap
    and can answer out of order: the list shown is the one asked for last."""
    held = []  # the first list request's route, then the list as it was when asked for
    stale = []

    def hold_the_first(route) -> None:
        # Claimed before fetching: the fetch lets Playwright run the handlers of later
        # requests meanwhile, and those must go through, not be held as well.
        if held:
            route.continue_()
            return
        held.append(route)
        stale.append(route.fetch())  # the list as it is now, delivered later

    page.route(re.compile(r"/api/v1/data-processing/tasks/\?page_size="), hold_the_first)
    log_in(page)
    jobs = open_tab(page, "My jobs")
    job = stored_job(alice, "search", {"filters": {}}, state=JobState.SUCCESS, progress=100)
    jobs.locator("[data-jobs-refresh]").click()
    item = jobs.locator(f"[data-task-id='{job.id}']")
    expect(item.locator(".badge")).to_have_text("Done")

    route = held[0]
    deadline = time.monotonic() + 20
    while not stale and time.monotonic() < deadline:
        page.wait_for_timeout(50)  # Playwright finishes the held request's fetch meanwhile
    assert stale, "the held list request was never fetched"
    with page.expect_event("requestfinished", lambda request: request == route.request):
        route.fulfill(response=stale[0])  # the page-load list, read before the job existed
    page.evaluate("() => new Promise((resolve) => setTimeout(resolve, 200))")  # let it land

    expect(item).to_be_visible()
    expect(jobs.locator("[data-jobs-message]")).to_have_text("")
    assert_no_page_errors(page)


def test_invalid_filters_show_the_api_message_and_each_field_error(page, alice, shot):
    log_in(page)
    page.get_by_label("Minimum").fill("5000")
    page.get_by_label("Maximum").fill("100")
    page.get_by_role("button", name="Search", exact=True).click()

    results = panel(page, "Search results")
    alert = results.get_by_role("alert")
    expect(alert).to_contain_text("Invalid input.")
    expect(alert).to_contain_text("Minimum amount: Must not be greater than max.")
    expect(page.get_by_label("Minimum")).to_have_attribute("aria-invalid", "true")
    shot(page, "validation-error")
    assert_no_page_errors(page)


def test_an_unreachable_server_is_reported_clearly(page, alice, dataset, shot):
    log_in(page)
    page.route("**/api/v1/**", lambda route: route.abort("connectionrefused"))
    page.get_by_role("button", name="Search", exact=True).click()

    results = panel(page, "Search results")
    expect(results.get_by_role("alert")).to_contain_text("Cannot reach the server.")
    banner = page.locator("[data-connection-banner]")
    expect(banner).to_contain_text("Cannot reach the server.")
    shot(page, "server-unreachable")

    page.unroute("**/api/v1/**")
    page.get_by_role("button", name="Search", exact=True).click()
    expect(results.get_by_role("status")).to_have_text("Search complete: 240 contracts.")
    expect(banner).to_be_hidden()
    assert_no_page_errors(page)


def test_without_the_websocket_progress_comes_from_polling(page, alice, dataset):
    sockets = []

    def refuse(ws) -> None:
        sockets.append(ws.url)
        ws.close(code=1011, reason="refused by the test")

    page.route_web_socket(re.compile(r"/ws/tasks/status/$"), refuse)
    log_in(page)
    page.evaluate(RECORD_PROGRESS, "search-panel")
    polled = []

    def note_poll(request) -> None:
        if "/tasks/status/" in request.url:
            polled.append(request.url)

    page.on("request", note_poll)

    page.get_by_role("button", name="Search", exact=True).click()

    results = panel(page, "Search results")
    expect(results.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "100")
    expect(results.locator("table[data-results=search] tbody tr")).to_have_count(20)
    assert sockets, "the page never tried the websocket"
    assert polled, "the page never polled the status endpoint"
    assert_no_page_errors(page)


def test_the_dashboard_is_keyboard_usable_and_readable_on_a_phone(open_page, alice, dataset, shot):
    page = open_page(PHONE)
    log_in(page)

    def no_sideways_scroll() -> None:
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"page is {width}px wide on a {PHONE['width']}px screen"

    no_sideways_scroll()
    shot(page, "phone-filters")

    # Keyboard only: Tab from the page start reaches the first chip box with a visible focus ring.
    page.keyboard.press("Tab")  # skip link
    expect(page.get_by_role("link", name="Skip to results")).to_be_focused()
    page.keyboard.press("Tab")  # log out
    page.keyboard.press("Tab")  # clear filters
    page.keyboard.press("Tab")
    box = page.get_by_role("combobox", name="Contractors")
    expect(box).to_be_focused()
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"
    page.keyboard.type("acme")
    expect(page.get_by_role("option", name="ACME BUILDERS")).to_be_visible()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Remove contractor ACME BUILDERS")).to_be_visible()

    page.get_by_role("button", name="Search", exact=True).focus()
    page.keyboard.press("Enter")
    results = panel(page, "Search results")
    expect(results.get_by_role("status")).to_have_text("Search complete: 20 contracts.")
    no_sideways_scroll()
    shot(page, "phone-search-results")

    page.get_by_role("button", name="Analytics", exact=True).click()
    analytics = panel(page, "Analytics")
    expect(analytics.get_by_role("status")).to_have_text("Analytics complete: 20 contracts.")
    no_sideways_scroll()
    shot(page, "phone-analytics")
    scroll_to_top_of(analytics.locator("[data-chart=top_contractors]"))
    shot(page, "phone-analytics-top-contractors")
    assert_no_page_errors(page)
