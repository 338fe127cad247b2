"""The "Red flags" view, the treemap and the drill-down in a real browser, against the real
stack (uvicorn, a Celery worker, PostgreSQL): each analysis runs as a job and is drawn with
its caption in the Red flags tab; any entity opens the Drill-down tab; the time pickers offer
only years with data."""

from __future__ import annotations

import re

import pytest
from dashboard_page import assert_no_errors_at_all, open_tab, panel, tab
from django.core.cache import cache

from contracts.selectors.time_ranges import time_ranges_cache_key

sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
expect = sync_api.expect

pytestmark = [pytest.mark.browser, pytest.mark.integration]


def log_in(page) -> None:
    page.goto("/")
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill("alice-password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Red flags", exact=True)).to_be_enabled()


def part(page, name: str):
    return page.get_by_role("region", name=name)


def charted(page, canvas) -> bool:
    return page.evaluate("(c) => window.Chart.getChart(c) !== undefined", canvas.element_handle())


@pytest.fixture
def fresh_time_ranges():
    """Each test's database restarts at dataset version 1; the cached answer must not outlive it."""
    keys = [time_ranges_cache_key(v) for v in range(1, 10)]
    cache.delete_many(keys)
    yield
    cache.delete_many(keys)


def test_red_flags_draw_each_analysis_with_what_it_does_not_prove(page, alice, dataset, shot):
    log_in(page)
    page.get_by_role("button", name="Red flags", exact=True).click()
    expect(tab(page, "Red flags")).to_have_attribute("aria-selected", "true")
    expect(panel(page, "Red flags").get_by_role("heading", name="Red flags", exact=True)).to_be_focused()
    expect(page.get_by_role("tabpanel")).to_have_count(1)

    distribution = part(page, "Value distribution")
    expect(distribution.get_by_role("status")).to_have_text(
        re.compile(r"^Value distribution: 240 contracts in \d+ bins\.")
    )
    histogram = distribution.locator("[data-redflag=value_distribution] canvas")
    expect(histogram).to_be_visible()
    assert charted(page, histogram)
    expect(distribution.locator("figcaption")).to_contain_text("does NOT prove")
    # The thresholds table lists the three round thresholds.
    distribution.get_by_text("Thresholds: contracts just below, on and just above").click()
    expect(distribution.locator("details tbody tr")).to_have_count(3)

    benford = part(page, "Benford's law")
    # 240 contracts are under the documented minimum of 1,000: the view says so.
    expect(benford.get_by_role("status")).to_contain_text("Benford's law: too few contracts to judge.")
    expect(benford.locator(".benford-verdict")).to_contain_text("Too few contracts to judge: 240 amounts")
    for canvas in benford.locator("canvas").all():
        assert charted(page, canvas)
    first_digit = benford.locator("canvas").first.element_handle()
    assert page.evaluate(
        "(c) => window.Chart.getChart(c).data.datasets.map((d) => d.label)", first_digit
    ) == [
        "Observed",
        "Expected (Benford)",
    ]

    rounding = part(page, "Round amounts")
    expect(rounding.get_by_role("status")).to_contain_text("Round amounts: 240 contracts.")
    expect(rounding.locator("canvas")).to_have_count(2)
    expect(rounding.locator("figcaption")).to_contain_text("NOT proof")

    treemap = part(page, "Treemap")
    expect(treemap.get_by_role("status")).to_contain_text("Treemap: 3 categories.")
    expect(treemap.locator("[data-tile=category]")).to_have_count(3)
    expect(treemap.locator("[data-tile=contractor]").first).to_be_visible()
    shot(page, "red-flags")
    assert_no_errors_at_all(page)


def test_on_a_phone_red_flags_and_the_drill_down_come_into_view_in_their_tabs(
    open_page, alice, dataset, shot
):
    page = open_page({"width": 375, "height": 812})
    log_in(page)
    page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
    page.get_by_role("button", name="Red flags", exact=True).click()
    expect(tab(page, "Red flags")).to_be_in_viewport(ratio=1)  # the tab row scrolled to it
    expect(panel(page, "Red flags").get_by_role("heading", name="Red flags", exact=True)).to_be_focused()
    expect(panel(page, "Red flags").get_by_role("heading", name="Red flags", exact=True)).to_be_in_viewport()
    treemap = part(page, "Treemap")
    expect(treemap.get_by_role("status")).to_contain_text("Treemap: 3 categories.")
    shot(page, "red-flags-phone")

    tile = treemap.locator("[data-tile=contractor]").first
    contractor = tile.get_attribute("data-name")
    tile.click()
    drilldown = panel(page, f"Drill-down: Contractor {contractor}")
    expect(tab(page, "Drill-down")).to_be_in_viewport(ratio=1)
    expect(drilldown.get_by_role("heading", name=f"Drill-down: Contractor {contractor}")).to_be_in_viewport()
    expect(drilldown.locator("table[data-results=related] tbody tr").first).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    shot(page, "drill-down-phone")
    assert_no_errors_at_all(page)


def test_a_treemap_tile_and_an_entity_table_name_open_the_drill_down(page, alice, dataset, shot):
    log_in(page)
    page.get_by_role("button", name="Red flags", exact=True).click()
    treemap = part(page, "Treemap")
    tile = treemap.locator("[data-tile=contractor]").first
    expect(tile).to_be_visible()
    contractor = tile.get_attribute("data-name")
    tile.click()

    drilldown = panel(page, f"Drill-down: Contractor {contractor}")
    expect(tab(page, "Drill-down")).to_have_attribute("aria-selected", "true")
    expect(drilldown.get_by_role("heading", name=f"Drill-down: Contractor {contractor}")).to_be_focused()
    expect(drilldown.get_by_role("status")).to_have_text(
        re.compile(rf"^Contractor {re.escape(contractor)}: 20 contracts, \d+ procuring entit(y|ies)\.")
    )
    related = drilldown.locator("table[data-results=related] tbody tr")
    expect(related.first).to_be_visible()
    organization = related.first.locator("button").inner_text()
    shot(page, "drill-down-related")

    # Another dimension, then one pair's contracts.
    drilldown.get_by_label("Related").select_option("area")
    expect(drilldown.get_by_role("status")).to_have_text(re.compile(r"\d+ areas?\."))
    drilldown.get_by_label("Related").select_option("organization")
    expect(drilldown.get_by_role("status")).to_have_text(re.compile(r"\d+ procuring entit(y|ies)\."))
    drilldown.get_by_role("button", name=f"Contracts of {contractor} with {organization}").click()
    expect(drilldown.get_by_role("status")).to_have_text(
        re.compile(rf"contracts of {re.escape(contractor)} with {re.escape(organization)}\.")
    )
    rows = drilldown.locator("table[data-results=search] tbody tr")
    expect(rows.first).to_contain_text(contractor)
    expect(rows.first).to_contain_text(organization)
    shot(page, "drill-down-pair")

    # A name in the entity table opens the same view for that entity.
    page.get_by_label("Entity table of").select_option("area")
    page.get_by_role("button", name="Entity table", exact=True).click()
    panel(page, "Entity table").get_by_role("button", name="Cebu", exact=True).click()
    area = panel(page, "Drill-down: Area Cebu")
    expect(tab(page, "Drill-down")).to_have_attribute("aria-selected", "true")
    expect(area.get_by_role("heading", name="Drill-down: Area Cebu")).to_be_focused()
    expect(area.get_by_role("status")).to_have_text(re.compile(r"^Area Cebu: 80 contracts, 4 contractors\."))
    expect(tab(page, "Red flags")).to_have_attribute("aria-selected", "false")
    assert_no_errors_at_all(page)


def test_showing_an_earlier_red_flag_or_drill_down_result_brings_its_tab_forward(page, alice, dataset):
    log_in(page)
    page.get_by_role("button", name="Red flags", exact=True).click()
    treemap = part(page, "Treemap")
    expect(treemap.get_by_role("status")).to_contain_text("Treemap: 3 categories.")
    tile = treemap.locator("[data-tile=contractor]").first
    contractor = tile.get_attribute("data-name")
    tile.click()
    expect(panel(page, f"Drill-down: Contractor {contractor}").get_by_role("status")).to_contain_text(
        "contracts"
    )

    jobs = open_tab(page, "My jobs")
    jobs.get_by_role("button", name="Show treemap result").click()
    expect(tab(page, "Red flags")).to_have_attribute("aria-selected", "true")
    expect(panel(page, "Red flags").get_by_role("heading", name="Red flags", exact=True)).to_be_focused()
    expect(treemap.get_by_role("status")).to_have_text("Result of an earlier job.")
    expect(treemap.locator("[data-tile=category]")).to_have_count(3)

    jobs = open_tab(page, "My jobs")
    jobs.get_by_role("button", name="Show drill-down result").click()
    drilldown = panel(page, f"Drill-down: Contractor {contractor}")
    expect(tab(page, "Drill-down")).to_have_attribute("aria-selected", "true")
    expect(drilldown.get_by_role("heading", name=f"Drill-down: Contractor {contractor}")).to_be_focused()
    expect(drilldown.get_by_role("status")).to_have_text("Result of an earlier job.")
    expect(drilldown.locator("table[data-results=related] tbody tr").first).to_be_visible()
    expect(page.get_by_role("tabpanel")).to_have_count(1)
    assert_no_errors_at_all(page)


def test_the_year_picker_offers_only_years_with_data(page, alice, dataset, fresh_time_ranges, shot):
    log_in(page)
    options = page.locator("#time-range-years option")
    expect(options).to_have_count(2)
    assert [o.get_attribute("value") for o in options.all()] == ["2022", "2023"]
    expect(page.get_by_label("Year", exact=True)).to_have_attribute("min", "2022")

    page.get_by_label("Year", exact=True).fill("2019")
    page.get_by_role("button", name="Add time range").click()
    expect(page.locator("#time-ranges-error")).to_have_text(
        "No contracts in 2019. Years with data: 2022, 2023."
    )
    page.get_by_label("Year", exact=True).fill("2023")
    page.get_by_role("button", name="Add time range").click()
    expect(page.get_by_role("button", name="Remove time range 2023")).to_be_visible()
    shot(page, "time-picker-years-with-data")
    assert_no_errors_at_all(page)
