"""Helpers for the browser tests of the dashboard: logging in, finding panels and tabs."""

from __future__ import annotations

import re

from playwright.sync_api import expect


def log_in(page, username: str = "alice") -> None:
    """Through the login form; the users of test/conftest.py have the password "<name>-password"."""
    page.goto("/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(f"{username}-password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Filters")).to_be_visible()
    # The actions are enabled once the page's script has wired everything up.
    expect(page.get_by_role("button", name="Search", exact=True)).to_be_enabled()


def add_chip_with_keyboard(page, label: str, typed: str, expected: str) -> None:
    box = page.get_by_role("combobox", name=label)
    box.fill(typed)
    expect(page.get_by_role("option", name=expected)).to_be_visible()
    box.press("ArrowDown")
    box.press("Enter")
    expect(page.get_by_role("button", name=re.compile(f"Remove .* {re.escape(expected)}"))).to_be_visible()


def add_keyword(page, word: str) -> None:
    keywords = page.get_by_role("textbox", name="Keywords")
    keywords.fill(word)
    keywords.press("Enter")
    expect(page.get_by_role("button", name=f"Remove keyword {word}")).to_be_visible()


def panel(page, name: str):
    """The result panel on screen (a tab panel; the others are hidden)."""
    return page.get_by_role("tabpanel", name=name)


def tab(page, name: str):
    # The tab's name may end with its job's state ("Analytics (running)").
    return page.get_by_role("tab", name=re.compile(rf"^{re.escape(name)}( \(|$)"))


def open_tab(page, name: str, heading: str | None = None):
    """Click a tab; returns its panel."""
    tab(page, name).click()
    return panel(page, heading or name)


def assert_no_page_errors(page) -> None:
    assert page.errors == [], page.errors


def assert_no_errors_at_all(page) -> None:
    """No uncaught exception and nothing logged as an error in the console."""
    assert_no_page_errors(page)
    assert page.console_errors == [], page.console_errors
