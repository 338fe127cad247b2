"""Browser tests of the dashboard: headless Chromium (Debian's) driven by Playwright against
the real stack: uvicorn serving HTTP, websockets and static files, a real Celery worker and
PostgreSQL with committed data.

Chromium is the system one (`apt-get install chromium`): Playwright's own browser download
does not work here. `make test` installs it (bin/ensure-services chromium); a missing browser
fails these tests rather than skipping them, so CI cannot pass without running them. Run the
rest without a browser with `-m "not browser"`.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from contracts.models import Area, BusinessCategory, Contract, Contractor, Organization

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
EXPECT_TIMEOUT_MS = 20_000
DESKTOP = {"width": 1366, "height": 900}

CONTRACTORS = (
    "ACME BUILDERS",
    "BRIGHT SUPPLY",
    "CEBU TRADING",
    "DAVAO CONSTRUCTION",
    "EASTERN VISAYAS ENTERPRISES",
    "FIRST ILOCOS CORPORATION",
    "GOLDEN MINDANAO SERVICES",
    "HIGHLAND ROADWORKS",
    "ISLAND OFFICE SUPPLY",
    "JOLO GENERAL MERCHANDISE",
    "KALINGA BUILDERS",
    "LUZON MEDICAL TRADING",
)
ORGANIZATIONS = (
    "DEPARTMENT OF PUBLIC WORKS AND HIGHWAYS",
    "CITY OF DIGOS",
    "DEPARTMENT OF EDUCATION",
    "PROVINCE OF CEBU",
)
AREAS = ("Metro Manila", "Cebu", "Davao del Sur")
CATEGORIES = ("Construction Projects", "Office Supplies", "Medical Supplies")
CONTRACT_COUNT = 240
ROAD, PAPER = "Construction of farm-to-market road", "Supply of office paper"


# Module scope: Playwright's sync API keeps an event loop running in this thread while it is
# open, and Django refuses ORM calls under a running loop; the tests after e2e must not inherit it.
@pytest.fixture(scope="module")
def browser(asgi_server, celery_worker_process):
    """One headless Chromium for the browser tests (after the live server and worker are up)."""
    from playwright import sync_api

    if not Path(CHROMIUM).is_file():
        pytest.fail(f"no Chromium at {CHROMIUM}: run bin/ensure-services chromium (apt-get install chromium)")
    sync_api.expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(autouse=True)
def _orm_beside_playwright(monkeypatch):
    """Playwright's sync API keeps an asyncio loop running on this thread, which Django takes
    for an async context and refuses ORM calls from. The tests' own ORM use (fixtures, waiting
    for job states) is plain sync code, so allow it here; the server and worker processes
    were started before and do not see this variable."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def base_url(asgi_server) -> str:
    return f"http://{asgi_server}"


@pytest.fixture
def dataset(live_db) -> int:
    """240 committed contracts over 12 contractors, 4 organizations, 3 areas, 3 categories, 2 years."""
    contractors = [Contractor.objects.create(name=name) for name in CONTRACTORS]
    organizations = [Organization.objects.create(name=name) for name in ORGANIZATIONS]
    areas = [Area.objects.create(name=name) for name in AREAS]
    categories = [BusinessCategory.objects.create(name=name) for name in CATEGORIES]
    Contract.objects.bulk_create(
        Contract(
            reference_id=f"AW-{i:06d}",
            title=f"{ROAD if i % 3 == 0 else PAPER} #{i}",
            contractor=contractors[i % len(contractors)],
            organization=organizations[(i // 3) % len(organizations)],
            area=areas[i % len(areas)],
            business_category=categories[(i // 2) % len(categories)],
            amount=Decimal(1000 + (i * 7919) % 250_000),
            award_date=dt.date(2022 + i % 2, 1 + i % 12, 1 + i % 28),
        )
        for i in range(CONTRACT_COUNT)
    )
    return CONTRACT_COUNT


@pytest.fixture
def contractor_names() -> tuple[str, ...]:
    return CONTRACTORS


def _new_page(browser, base_url: str, viewport: dict[str, int]):
    context = browser.new_context(base_url=base_url, viewport=viewport, reduced_motion="reduce")
    page = context.new_page()
    page.errors = []  # uncaught exceptions in the page: each test ends by checking there were none
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    # Errors the page logs (a failed module import, a refused request): tests whose requests
    # should all succeed assert there were none (an API's 4xx is logged too, so not all can).
    page.console_errors = []
    page.on("console", lambda message: message.type == "error" and page.console_errors.append(message.text))
    return context, page


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> pytest.TestReport:
    """Marks a test whose body failed, so its page can be photographed before it closes."""
    report = yield
    if report.when == "call":
        item.call_failed = report.failed
    return report


@pytest.fixture
def page(request, browser, base_url, live_db):
    context, page = _new_page(browser, base_url, DESKTOP)
    yield page
    if getattr(request.node, "call_failed", False):
        # What the page showed when the test gave up: the first thing to look at.
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"FAILED-{request.node.name}.png"), full_page=True)
    context.close()


@pytest.fixture
def open_page(browser, base_url, live_db) -> Iterator[Callable]:
    """open_page(viewport=...) → a fresh page in its own context (e.g. a phone-sized one)."""
    contexts = []

    def open_(viewport: dict[str, int] = DESKTOP):
        context, page = _new_page(browser, base_url, viewport)
        contexts.append(context)
        return page

    yield open_
    for context in contexts:
        context.close()


@pytest.fixture
def shot() -> Callable:
    """shot(page, "name") saves test-artifacts/screenshots/name.png: the window, as the user
    sees it (a whole-page shot would draw the sticky action bar and tabs mid-page)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page, name: str, *, full_page: bool = False) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        return path

    return take
