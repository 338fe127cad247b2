"""Reading single PhilGEPS cells: the quirks of the real exports."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from contracts.importing.values import (
    BadValue,
    clean,
    parse_amount,
    parse_budget,
    parse_date,
    parse_line_item,
    parse_name,
    parse_reference,
)


@pytest.mark.parametrize("raw", [None, "", "   ", "NULL", "null", " Null "])
def test_empty_cells_and_null_placeholders_are_missing(raw):
    assert clean(raw) is None
    assert parse_name(raw) is None
    assert parse_date(raw) is None
    assert parse_amount(raw) is None
    assert parse_reference(raw) is None


def test_it_keeps_text_that_merely_contains_null():
    assert clean(" NULLIFIED CONTRACT ") == "NULLIFIED CONTRACT"


def test_names_have_whitespace_collapsed():
    assert parse_name("  JUAN  DELA\tCRUZ TRADING ") == "JUAN DELA CRUZ TRADING"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("21/10/2024", dt.date(2024, 10, 21)),
        ("1/2/2024", dt.date(2024, 2, 1)),  # day first, not month first
        ("21/10/2024 14:30", dt.date(2024, 10, 21)),
        ("2024-10-21", dt.date(2024, 10, 21)),
        ("2024-10-21 00:00:00", dt.date(2024, 10, 21)),
        ("2024-10-21T08:30:00.000Z", dt.date(2024, 10, 21)),
        ("45586", dt.date(2024, 10, 21)),  # Excel serial
        ("45586.75", dt.date(2024, 10, 21)),  # Excel serial with a time of day
        ("40299", dt.date(2010, 5, 1)),
    ],
)
def test_it_reads_each_date_format(raw, expected):
    assert parse_date(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "32/13/2024",
        "10/21/2024",
        "2024-02-30",
        "2024",
        "7",
        "yesterday",
        "21/10/24",
        "9" * 400,  # a float of it is infinite
        "1" * 5000,  # an int of it is past Python's digit limit
    ],
)
def test_it_rejects_unreadable_dates(raw):
    with pytest.raises(BadValue, match="bad date"):
        parse_date(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("4,718,239.58", Decimal("4718239.58")),
        ("4718239.58", Decimal("4718239.58")),
        ("15000", Decimal("15000.00")),
        ("PHP 1,250,000", Decimal("1250000.00")),
        ("php1,000.5", Decimal("1000.50")),
        ("₱ 98,500.50", Decimal("98500.50")),
        ("₱250", Decimal("250.00")),
        ("0.005", Decimal("0.01")),  # rounded half up to centavos
        ("-1", Decimal("-1.00")),
    ],
)
def test_it_reads_amounts(raw, expected):
    assert parse_amount(raw) == expected


@pytest.mark.parametrize("raw", ["TBD", "1.234.567", "1,23", "12,34,567", "1 000 abc", "$100", "1e5", "-"])
def test_it_rejects_unreadable_amounts(raw):
    with pytest.raises(BadValue, match="bad amount"):
        parse_amount(raw)


@pytest.mark.parametrize(
    "raw",
    ["99,999,999,999,999,999", "9999999999999999.99", "1,000,000,000,000,000", "-1,000,000,000,000,000.00"],
)
def test_it_rejects_amounts_no_database_here_reads_back_whole(raw):
    with pytest.raises(BadValue, match="out of range"):
        parse_amount(raw)


def test_the_largest_amount_taken_is_a_centavo_under_a_quadrillion():
    assert parse_amount("999,999,999,999,999.99") == Decimal("999999999999999.99")


@pytest.mark.parametrize("raw", ["-1", "-1.00", "0", "0.00", "NULL", ""])
def test_placeholder_budgets_are_missing(raw):
    assert parse_budget(raw) is None


def test_a_real_budget_is_kept():
    assert parse_budget("4,718,239.58") == Decimal("4718239.58")


@pytest.mark.parametrize("raw", ["0", "000", " 0 "])
def test_zero_references_are_no_reference(raw):
    assert parse_reference(raw) is None


def test_references_are_kept_as_text():
    assert parse_reference(" 0012345 ") == "0012345"


@pytest.mark.parametrize(
    ("raw", "expected"), [("1", 1), ("2", 2), ("3.0", 3), ("02", 2), ("0", None), ("NULL", None)]
)
def test_it_reads_line_item_numbers(raw, expected):
    assert parse_line_item(raw) == expected


@pytest.mark.parametrize("raw", ["1.5", "two", "-2", "2.", "1234567890", "9" * 400])
def test_it_rejects_bad_line_item_numbers(raw):
    with pytest.raises(BadValue, match="bad line item number"):
        parse_line_item(raw)


def test_a_reason_quotes_a_long_cell_cut_short():
    with pytest.raises(BadValue) as caught:
        parse_amount("x" * 100_000)
    assert len(str(caught.value)) < 120
    assert str(caught.value).startswith("bad amount 'xxx")
