"""The red-flag analyses against plain-Python computations over the same rows, per filter kind."""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections import Counter
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from contracts.filters import ContractFilters, DateRange, filter_contracts
from contracts.models import Contract
from contracts.selectors.red_flags import (
    BENFORD_MIN_SAMPLE,
    MAX_BINS,
    benford,
    conformity,
    rounding,
    value_distribution,
)

FILTER_CASES = {
    "everything": ContractFilters(),
    "keyword": ContractFilters(keywords=("road",)),
    "dated_and_bounded": ContractFilters(
        time_ranges=(DateRange(dt.date(2021, 3, 1), dt.date(2022, 6, 30)),),
        min_amount=Decimal("1000"),
        max_amount=Decimal("20000000"),
    ),
    "entities": ContractFilters(areas=("province 1", "Province 2"), contractors=("Builder 00", "Builder 03")),
    "nothing": ContractFilters(keywords=("no such title",)),
}


def matching_cents(rows, filters) -> list[int]:
    ids = set(filter_contracts(filters).values_list("id", flat=True))
    return [int(row.amount * 100) for row in rows if row.id in ids]


def money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


# --- value distribution --------------------------------------------------------------------------


def expected_bins(cents: list[int], scale: str, bins: int) -> list[tuple[int, int]]:
    """(count, total) per bin, computed the way the docstring of _bin_sql defines bins."""
    if scale == "log":
        cents = [c for c in cents if c > 0]
    if not cents:
        return []
    lo, hi = min(cents), max(cents)
    if scale == "linear":
        width = (hi - lo) // bins + 1
        index = [(c - lo) // width for c in cents]
        size = (hi - lo) // width + 1
    else:
        step = (math.log(hi) - math.log(lo)) / bins
        index = [
            0 if hi == lo else min(math.floor((math.log(c) - math.log(lo)) / step), bins - 1) for c in cents
        ]
        size = 1 if hi == lo else bins
    counts, totals = Counter(index), Counter()
    for i, c in zip(index, cents, strict=True):
        totals[i] += c
    return [(counts[i], totals[i]) for i in range(size)]


@pytest.mark.parametrize("case", list(FILTER_CASES))
@pytest.mark.parametrize(("scale", "bins"), [("linear", 1), ("linear", 37), ("log", 20), ("log", MAX_BINS)])
def test_the_histogram_matches_python(amount_contracts, case, scale, bins):
    cents = matching_cents(amount_contracts, FILTER_CASES[case])
    result = value_distribution(filters=FILTER_CASES[case], bins=bins, scale=scale)

    assert result["count"] == len(cents)
    assert result["total_amount"] == money(sum(cents))
    assert [(b["count"], b["total_amount"]) for b in result["bins"]] == [
        (n, money(t)) for n, t in expected_bins(cents, scale, bins)
    ]
    assert result["bin_count"] == len(result["bins"]) <= bins
    binned = [c for c in cents if scale == "linear" or c > 0]
    assert result["not_binned"] == len(cents) - len(binned)
    if binned:
        assert result["min_amount"] == money(min(binned))
        assert result["max_amount"] == money(max(binned))
        assert result["bins"][0]["lower"] == money(min(binned))
        assert result["bins"][-1]["upper"] == money(max(binned))


@pytest.mark.parametrize("case", list(FILTER_CASES))
def test_linear_bins_are_exact_and_contiguous(amount_contracts, case):
    result = value_distribution(filters=FILTER_CASES[case], bins=50)
    cents = matching_cents(amount_contracts, FILTER_CASES[case])
    for left, right in itertools.pairwise(result["bins"]):
        assert left["upper"] == right["lower"]
    # Every amount lies in [lower, upper) of the bin that counted it (the top one: inclusive).
    for c in cents:
        amount = Decimal(c) / 100
        holders = [
            b
            for b in result["bins"]
            if Decimal(b["lower"]) <= amount < Decimal(b["upper"])
            or (b is result["bins"][-1] and amount == Decimal(b["upper"]))
        ]
        assert len(holders) == 1


@pytest.mark.parametrize("case", list(FILTER_CASES))
@pytest.mark.parametrize("band", [Decimal("2"), Decimal("0.5"), Decimal("10")])
def test_threshold_bands_match_python(amount_contracts, settings, case, band):
    settings.RED_FLAG_THRESHOLDS = [Decimal("2000000"), Decimal("5000000")]
    cents = matching_cents(amount_contracts, FILTER_CASES[case])
    result = value_distribution(filters=FILTER_CASES[case], band_percent=band)

    assert [(t["amount"], t["source"]) for t in result["thresholds"]] == [
        ("1000000.00", "round"),
        ("2000000.00", "configured"),
        ("5000000.00", "configured"),  # configured and round: listed once
        ("10000000.00", "round"),
    ]
    for mark in result["thresholds"]:
        threshold = int(Decimal(mark["amount"]) * 100)
        width = int(threshold * band / 100)
        below = sum(1 for c in cents if threshold - width <= c < threshold)
        at = sum(1 for c in cents if c == threshold)
        above = sum(1 for c in cents if threshold < c <= threshold + width)
        assert mark["band_lower"] == money(threshold - width)
        assert (mark["count_just_below"], mark["count_at"], mark["count_just_above"]) == (below, at, above)
        assert mark["share_just_below"] == (round(below / len(cents), 6) if cents else None)


def test_the_generated_bunching_shows(amount_contracts):
    """The fixture puts ~6% of amounts up to PHP 300,000 under 10M, and ~3% on it exactly."""
    result = value_distribution(filters=ContractFilters(), band_percent=Decimal("3"))
    ten_million = next(t for t in result["thresholds"] if t["amount"] == "10000000.00")
    assert ten_million["count_just_below"] > 3 * ten_million["count_just_above"]
    assert ten_million["count_at"] > ten_million["count_just_above"]


@pytest.mark.parametrize(
    ("analysis", "statements"),
    [
        # The bounds (MIN/MAX of the amount), then one grouped pass.
        (lambda f: value_distribution(filters=f, bins=100, scale="log"), 2),
        (lambda f: benford(filters=f), 1),
        (lambda f: rounding(filters=f), 1),
    ],
)
def test_each_analysis_is_one_grouped_pass(amount_contracts, analysis, statements):
    with CaptureQueriesContext(connection) as queries:
        analysis(ContractFilters(keywords=("road",)))
    reads = [q["sql"] for q in queries.captured_queries if "contracts_contract" in q["sql"]]
    assert len(reads) == statements
    assert sum("GROUP BY" in sql for sql in reads) == 1


# --- Benford ---------------------------------------------------------------------------------


def expected_digits(cents: list[int]) -> tuple[Counter, Counter, int]:
    pesos = [c // 100 for c in cents if c // 100 >= 10]
    return Counter(int(str(p)[0]) for p in pesos), Counter(int(str(p)[:2]) for p in pesos), len(pesos)


@pytest.mark.parametrize("case", list(FILTER_CASES))
def test_benford_matches_python(amount_contracts, case):
    cents = matching_cents(amount_contracts, FILTER_CASES[case])
    first, first_two, sample = expected_digits(cents)
    result = benford(filters=FILTER_CASES[case])

    assert result["sample_size"] == sample
    assert result["excluded_small"] == len(cents) - sample
    for test, counts, digits in (
        ("first_digit", first, range(1, 10)),
        ("first_two_digits", first_two, range(10, 100)),
    ):
        got = result[test]
        assert [d["digit"] for d in got["digits"]] == list(digits)
        assert [d["observed_count"] for d in got["digits"]] == [counts[d] for d in digits]
        expected_share = {d: math.log10(1 + 1 / d) for d in digits}
        assert [d["expected_share"] for d in got["digits"]] == [round(expected_share[d], 6) for d in digits]
        if sample >= BENFORD_MIN_SAMPLE:
            mad = sum(abs(counts[d] / sample - expected_share[d]) for d in digits) / len(digits)
            chi = sum(
                (counts[d] - sample * expected_share[d]) ** 2 / (sample * expected_share[d]) for d in digits
            )
            assert got["mad"] == pytest.approx(mad, abs=1e-6)
            assert got["chi_square"] == pytest.approx(chi, abs=1e-3)
            assert got["conformity"] == conformity(test, mad)
        else:
            assert (got["mad"], got["chi_square"], got["conformity"]) == (None, None, "too_few")
            assert got["conformity_text"] == "Too few contracts to judge."
    assert result["enough_data"] is (sample >= BENFORD_MIN_SAMPLE)


def test_benford_judges_the_full_set_and_not_a_small_one(amount_contracts):
    assert benford(filters=ContractFilters())["enough_data"] is True
    small = benford(filters=FILTER_CASES["entities"])
    assert small["sample_size"] < BENFORD_MIN_SAMPLE
    assert small["first_digit"]["conformity"] == "too_few"


@pytest.mark.parametrize(
    ("test", "mad", "reading"),
    [
        ("first_digit", 0.0059, "close"),
        ("first_digit", 0.006, "close"),
        ("first_digit", 0.0061, "acceptable"),
        ("first_digit", 0.0149, "marginal"),
        ("first_digit", 0.0151, "nonconformity"),
        ("first_two_digits", 0.0011, "close"),
        ("first_two_digits", 0.0017, "acceptable"),
        ("first_two_digits", 0.0021, "marginal"),
        ("first_two_digits", 0.0023, "nonconformity"),
    ],
)
def test_nigrini_readings(test, mad, reading):
    assert conformity(test, mad) == reading


def test_benford_conforming_amounts_read_close(amount_contracts):
    """Amounts spread evenly on a log scale follow Benford's law: the reading must say so."""
    template = amount_contracts[0]
    Contract.objects.bulk_create(
        Contract(
            reference_id=f"BENFORD-{n}",
            title="Benford sample",
            contractor=template.contractor,
            organization=template.organization,
            amount=Decimal(str(round(10 ** (2 + 4 * (n + 0.5) / 1200), 2))),
            award_date=template.award_date,
        )
        for n in range(1200)
    )
    result = benford(filters=ContractFilters(keywords=("benford sample",)))
    assert result["sample_size"] == 1200
    assert result["first_digit"]["conformity"] == "close"
    assert result["first_two_digits"]["conformity"] in ("close", "acceptable")


# --- Rounding --------------------------------------------------------------------------------


def trailing_zeros(cents: int) -> int:
    if cents % 100 or cents == 0:
        return 0
    text = str(cents // 100)
    return min(len(text) - len(text.rstrip("0")), 12)


@pytest.mark.parametrize("case", list(FILTER_CASES))
def test_rounding_matches_python(amount_contracts, case):
    cents = matching_cents(amount_contracts, FILTER_CASES[case])
    result = rounding(filters=FILTER_CASES[case])

    assert result["count"] == len(cents)
    assert result["total_amount"] == money(sum(cents))
    for level in result["levels"]:
        step = int(Decimal(level["level"]) * 100)
        hits = [c for c in cents if c and c % step == 0]
        assert (level["count"], level["total_amount"]) == (len(hits), money(sum(hits)))
    assert [lvl["level"] for lvl in result["levels"]] == [
        "10000000.00",
        "1000000.00",
        "100000.00",
        "10000.00",
        "1000.00",
    ]
    zeros = Counter(trailing_zeros(c) for c in cents)
    assert [(z["zeros"], z["count"]) for z in result["trailing_zeros"]] == sorted(zeros.items())

    digits = Counter((c // 100) % 10 for c in cents if c // 100 >= 10)
    sample = sum(digits.values())
    got = result["last_digit"]
    assert got["sample_size"] == sample
    assert [(d["digit"], d["count"]) for d in got["digits"]] == [(d, digits[d]) for d in range(10)]
    if sample:
        chi = sum((digits[d] - sample / 10) ** 2 / (sample / 10) for d in range(10))
        assert got["chi_square"] == pytest.approx(chi, abs=1e-3)
    else:
        assert got["chi_square"] is None


def test_progress_is_reported_once_done(amount_contracts):
    calls = []
    rounding(filters=ContractFilters(), on_progress=lambda done, total, message: calls.append((done, total)))
    assert calls == [(1, 1)]
