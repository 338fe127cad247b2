"""Vectorised draws of synthetic contracts, chunk by chunk, from one seeded numpy generator.

How many rows each contractor, procuring entity, area and category gets is fixed up front
(one multinomial draw per dimension), so every entity that is created has contracts; each
chunk then takes its share of those rows without replacement (a multivariate
hypergeometric draw) and shuffles them. Memory stays proportional to the number of
entities plus one chunk, never to the number of rows.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from . import vocabulary
from .reference_data import WeightedNames, all_rows_count, weighted_names
from .titles import TitleMaker

# Real data: ~5.5M rows and ~127,000 contractors.
ROWS_PER_CONTRACTOR = 43
MIN_CONTRACTORS = 36
# Rows per contractor follow a Zipf-Mandelbrot law, weight ∝ (rank + offset)^-s: s ≈ 1.2 as
# in the real data, and the offset (a thousandth of the pool) flattens the very top so
# that at full scale the busiest contractor has thousands of rows, not a fifth of them all.
CONTRACTOR_ZIPF_S = 1.2
CONTRACTOR_ZIPF_OFFSET_SHARE = 1 / 1000
CONTRACTOR_ZIPF_MIN_OFFSET = 10.0

FIRST_DAY = dt.date(2001, 1, 1)
# Awarded line items per year grow with PhilGEPS adoption; 2025 is a part year (January to September).
YEAR_WEIGHTS = {
    2001: 0.2,
    2002: 0.4,
    2003: 0.6,
    2004: 0.9,
    2005: 1.3,
    2006: 1.8,
    2007: 2.2,
    2008: 2.6,
    2009: 3.0,
    2010: 3.3,
    2011: 3.6,
    2012: 4.0,
    2013: 4.5,
    2014: 5.0,
    2015: 5.5,
    2016: 6.0,
    2017: 6.4,
    2018: 6.8,
    2019: 7.2,
    2020: 6.4,
    2021: 6.8,
    2022: 7.0,
    2023: 7.2,
    2024: 7.0,
    2025: 4.6,
}
LAST_MONTH_OF_LAST_YEAR = 9
# Slow Januaries and the December rush to use the year's appropriations.
MONTH_WEIGHTS = (0.6, 0.8, 1.0, 0.95, 1.0, 1.1, 1.0, 1.0, 1.0, 1.05, 1.15, 1.5)

# Amounts: lognormal per business category, its mean the category's real mean amount.
# Civil works are tighter around their (~PHP 10M) median; everything else spreads widely.
DEFAULT_AMOUNT_SIGMA = 1.95
CIVIL_WORKS_AMOUNT_SIGMA = 0.9
MIN_AMOUNT = 500.0
MAX_AMOUNT = 20_000_000_000.0
# Budgets and awards cluster at round figures (the thresholds procurement rules use).
ROUND_THRESHOLDS = np.array([50e3, 100e3, 200e3, 500e3, 1e6, 2e6, 5e6, 10e6, 50e6, 100e6])
ROUND_SNAP_RATIO = 1.25
ROUND_SNAP_PROBABILITY = 0.2

PROCUREMENT_MODES = (
    "Public Bidding",
    "Small Value Procurement",
    "Shopping",
    "Negotiated Procurement - Emergency Cases",
    "Direct Contracting",
    "Repeat Order",
    "Negotiated Procurement - Agency-to-Agency Agreement",
    "Negotiated Procurement - Two Failed Biddings",
    "Limited Source Bidding",
    "Negotiated Procurement - Lease of Real Property and Venue",
)
EMERGENCY_MODE = PROCUREMENT_MODES.index("Negotiated Procurement - Emergency Cases")
# Upper bounds (PHP) of the amount bands, and the mode weights within each band.
MODE_BANDS = np.array([100e3, 1e6, 5e6])
MODE_WEIGHTS_BY_BAND = np.array(
    [
        [0.04, 0.58, 0.25, 0.04, 0.03, 0.03, 0.01, 0.00, 0.00, 0.02],
        [0.30, 0.50, 0.06, 0.05, 0.03, 0.02, 0.01, 0.01, 0.01, 0.01],
        [0.80, 0.03, 0.00, 0.06, 0.03, 0.02, 0.02, 0.03, 0.01, 0.00],
        [0.86, 0.00, 0.00, 0.04, 0.02, 0.01, 0.03, 0.03, 0.01, 0.00],
    ]
)
# 2020: COVID-19 emergency purchases.
EMERGENCY_YEAR = 2020
EMERGENCY_YEAR_EXTRA_SHARE = 0.12

CLASSIFICATIONS = ("Goods", "Civil Works", "Consulting Services")

# Every row has a notice title (the bid notice's); most awards repeat it, but an award for
# one lot of a wider notice has a title of its own, so a word can be in one title only.
OWN_AWARD_TITLE_SHARE = 0.1
# Real areas of delivery include lists of many provinces ("Abra, Agusan Del Norte, ...").
# They are rare, so a run of at least LONG_AREAS_FROM rows gives each list longer than
# LONG_AREA_LENGTH characters one row (taken from the busiest area) to keep them present.
LONG_AREA_LENGTH = 500
LONG_AREAS_FROM = 10_000


@dataclass(frozen=True)
class Dimension:
    """The names one run uses and how many rows each gets (every count is positive)."""

    names: tuple[str, ...]
    row_counts: np.ndarray
    source_index: np.ndarray  # position of each name in its reference list


@dataclass(frozen=True)
class Plan:
    """Everything decided before the first row: entities and their row counts."""

    count: int
    contractors: Dimension
    organizations: Dimension
    areas: Dimension
    area_nulls: int
    categories: Dimension


@dataclass(frozen=True)
class Chunk:
    """One chunk of rows as parallel arrays; entity columns index into the plan's names."""

    start: int
    contractor: np.ndarray
    organization: np.ndarray
    area: np.ndarray  # -1 where the row has no area
    category: np.ndarray
    amount: np.ndarray
    approved_budget: np.ndarray  # NaN where the row has no budget
    award_day: np.ndarray  # days since FIRST_DAY
    procurement_mode: np.ndarray
    classification: np.ndarray
    titles: list[str]
    notice_titles: list[str]

    def __len__(self) -> int:
        return len(self.titles)


def contractor_pool_size(count: int) -> int:
    """About one contractor per 43 rows, as in the real data; at least a few dozen."""
    return min(count, max(MIN_CONTRACTORS, round(count / ROWS_PER_CONTRACTOR)))


def contractor_weights(pool: int) -> np.ndarray:
    """Each contractor's share of the rows, busiest first (see CONTRACTOR_ZIPF_S)."""
    ranks = np.arange(1, pool + 1, dtype=np.float64)
    offset = max(CONTRACTOR_ZIPF_MIN_OFFSET, pool * CONTRACTOR_ZIPF_OFFSET_SHARE)
    weights = (ranks + offset) ** -CONTRACTOR_ZIPF_S
    return weights / weights.sum()


def _weighted(choices: tuple[tuple[int, str], ...]) -> tuple[list[str], np.ndarray]:
    weights = np.array([weight for weight, _ in choices], dtype=np.float64)
    return [text for _, text in choices], weights / weights.sum()


def contractor_names(pool: int, rng: np.random.Generator) -> tuple[str, ...]:
    """Unique, plausible Filipino company names ("DELA CRUZ CONSTRUCTION AND SUPPLY")."""
    owners, owner_weights = _weighted(vocabulary.CONTRACTOR_OWNERS)
    lines, line_weights = _weighted(vocabulary.CONTRACTOR_BUSINESS_LINES)
    words = {
        "S": vocabulary.SURNAMES,
        "S2": vocabulary.SURNAMES,
        "F": vocabulary.FIRST_NAMES,
        "F2": vocabulary.FIRST_NAMES,
        "W": vocabulary.BRAND_WORDS,
        "W2": vocabulary.BRAND_WORDS,
        "I": vocabulary.INITIALS,
    }
    names: dict[str, None] = {}  # insertion-ordered, unlike a set
    while len(names) < pool:
        batch = max(1024, 2 * (pool - len(names)))
        owner = rng.choice(len(owners), size=batch, p=owner_weights).tolist()
        line = rng.choice(len(lines), size=batch, p=line_weights).tolist()
        picks = {key: rng.integers(len(values), size=batch).tolist() for key, values in words.items()}
        before = len(names)
        for i in range(batch):
            fields = {key: words[key][picks[key][i]] for key in words}
            names.setdefault(f"{owners[owner[i]].format(**fields)} {lines[line[i]]}")
            if len(names) == pool:
                break
        if len(names) == before:
            raise RuntimeError(f"cannot make {pool:,} distinct contractor names from the vocabulary")
    return tuple(names)


def _dimension(reference: WeightedNames, count: int, rng: np.random.Generator) -> Dimension:
    counts = rng.multinomial(count, reference.row_counts / reference.row_counts.sum())
    used = np.flatnonzero(counts)
    return Dimension(tuple(reference.names[i] for i in used), counts[used], used)


def _with_long_areas(areas: Dimension, reference: WeightedNames) -> Dimension:
    """`areas` with one row for each very long area list it lacks (see LONG_AREA_LENGTH)."""
    long_lists = [i for i, name in enumerate(reference.names) if len(name) > LONG_AREA_LENGTH]
    missing = [i for i in long_lists if i not in set(areas.source_index.tolist())]
    if not missing:
        return areas
    counts = areas.row_counts.copy()
    counts[int(np.argmax(counts))] -= len(missing)
    source = np.concatenate([areas.source_index, np.array(missing, dtype=areas.source_index.dtype)])
    return Dimension(
        (*areas.names, *(reference.names[i] for i in missing)),
        np.concatenate([counts, np.ones(len(missing), dtype=counts.dtype)]),
        source,
    )


def plan_generation(count: int, rng: np.random.Generator) -> Plan:
    """Decide which entities exist and how many rows each gets."""
    pool = contractor_pool_size(count)
    names = contractor_names(pool, rng)
    contractor_counts = 1 + rng.multinomial(count - pool, contractor_weights(pool))
    contractors = Dimension(names, contractor_counts, np.arange(pool))

    areas_ref = weighted_names("areas")
    area_share = areas_ref.total_rows / all_rows_count()
    areas_count = int(rng.binomial(count, area_share))
    areas = _dimension(areas_ref, areas_count, rng)
    if areas_count >= LONG_AREAS_FROM:
        areas = _with_long_areas(areas, areas_ref)
    return Plan(
        count=count,
        contractors=contractors,
        organizations=_dimension(weighted_names("organizations"), count, rng),
        areas=areas,
        area_nulls=count - areas_count,
        categories=_dimension(weighted_names("business_categories"), count, rng),
    )


class _RowsWithoutReplacement:
    """Hands out the planned rows of one dimension in random order, a chunk at a time."""

    def __init__(self, row_counts: np.ndarray) -> None:
        self.remaining = row_counts.astype(np.int64)

    def take(self, size: int, rng: np.random.Generator) -> np.ndarray:
        counts = rng.multivariate_hypergeometric(self.remaining, size, method="marginals")
        self.remaining -= counts
        rows = np.repeat(np.arange(len(counts), dtype=np.int32), counts)
        rng.shuffle(rows)
        return rows


@dataclass(frozen=True)
class _CategoryTraits:
    """Per-category lookup arrays, in the order of the plan's categories."""

    log_median: np.ndarray
    sigma: np.ndarray
    classification: np.ndarray


def _classification(category: str) -> int:
    if category in vocabulary.CIVIL_WORKS_CATEGORIES:
        return CLASSIFICATIONS.index("Civil Works")
    if category in vocabulary.CONSULTING_CATEGORIES:
        return CLASSIFICATIONS.index("Consulting Services")
    return CLASSIFICATIONS.index("Goods")


def _category_traits(categories: Dimension) -> _CategoryTraits:
    means = weighted_names("business_categories").mean_amounts[categories.source_index]
    civil = np.array([name in vocabulary.CIVIL_WORKS_CATEGORIES for name in categories.names])
    sigma = np.where(civil, CIVIL_WORKS_AMOUNT_SIGMA, DEFAULT_AMOUNT_SIGMA)
    classification = np.array([_classification(name) for name in categories.names], dtype=np.int8)
    return _CategoryTraits(
        # A lognormal's mean is exp(mu + sigma²/2): keep each category's real mean amount.
        log_median=np.log(means) - sigma**2 / 2,
        sigma=sigma,
        classification=classification,
    )


@functools.cache
def _calendar() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weights, first days (since FIRST_DAY) and lengths of every month that can be drawn."""
    weights, starts, lengths = [], [], []
    last_year = max(YEAR_WEIGHTS)
    for year, year_weight in YEAR_WEIGHTS.items():
        months = range(1, (LAST_MONTH_OF_LAST_YEAR if year == last_year else 12) + 1)
        year_months = sum(MONTH_WEIGHTS[m - 1] for m in months)
        for month in months:
            first = dt.date(year, month, 1)
            following = dt.date(year + month // 12, month % 12 + 1, 1)
            weights.append(year_weight * MONTH_WEIGHTS[month - 1] / year_months)
            starts.append((first - FIRST_DAY).days)
            lengths.append((following - first).days)
    w = np.array(weights)
    return w / w.sum(), np.array(starts), np.array(lengths)


def _award_days(size: int, rng: np.random.Generator) -> np.ndarray:
    weights, starts, lengths = _calendar()
    month = rng.choice(len(weights), size=size, p=weights)
    days = starts[month] + (rng.random(size) * lengths[month]).astype(np.int64)
    # Awards are signed on working days: move Saturdays back and Sundays forward.
    weekday = (days + FIRST_DAY.weekday()) % 7
    return days - (weekday == 5) + (weekday == 6)


def _years(award_day: np.ndarray) -> np.ndarray:
    dates = np.datetime64(FIRST_DAY, "D") + award_day
    return dates.astype("datetime64[Y]").astype(np.int64) + 1970


def _amounts(category: np.ndarray, traits: _CategoryTraits, rng: np.random.Generator) -> np.ndarray:
    size = len(category)
    raw = np.exp(traits.log_median[category] + traits.sigma[category] * rng.standard_normal(size))
    amount = np.clip(raw, MIN_AMOUNT, MAX_AMOUNT)
    # Snap some amounts near a round threshold onto it (PHP 1M, 5M, 10M, ...).
    nearest = ROUND_THRESHOLDS[np.abs(np.log(amount[:, None] / ROUND_THRESHOLDS)).argmin(axis=1)]
    close = np.abs(np.log(amount / nearest)) < np.log(ROUND_SNAP_RATIO)
    snap = close & (rng.random(size) < ROUND_SNAP_PROBABILITY)
    amount = np.where(snap, nearest, amount)
    # Half the awards are whole pesos; the rest carry centavos.
    whole = rng.random(size) < 0.5
    return np.where(whole, np.round(amount), np.round(amount, 2))


def _approved_budgets(amount: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Usually above the award, often equal (awarded at the budget), rarely below, a few missing."""
    size = len(amount)
    u = rng.random(size)
    above = np.ceil(amount / rng.uniform(0.8, 0.999, size) / 100) * 100
    below = np.round(amount * rng.uniform(0.9, 0.99, size), 2)
    budget = np.where(u < 0.26, amount, np.where(u < 0.28, below, above))
    return np.where(u >= 0.975, np.nan, budget)


def _procurement_modes(amount: np.ndarray, award_day: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    band = np.searchsorted(MODE_BANDS, amount)
    cumulative = np.cumsum(MODE_WEIGHTS_BY_BAND, axis=1)
    cumulative /= cumulative[:, -1:]
    mode = (rng.random(len(amount))[:, None] > cumulative[band]).sum(axis=1)
    mode = np.minimum(mode, len(PROCUREMENT_MODES) - 1)
    emergency_year = (award_day >= (dt.date(EMERGENCY_YEAR, 1, 1) - FIRST_DAY).days) & (
        award_day < (dt.date(EMERGENCY_YEAR + 1, 1, 1) - FIRST_DAY).days
    )
    emergency = emergency_year & (rng.random(len(amount)) < EMERGENCY_YEAR_EXTRA_SHARE)
    return np.where(emergency, EMERGENCY_MODE, mode).astype(np.int8)


def sample_chunks(plan: Plan, rng: np.random.Generator, chunk_size: int) -> Iterator[Chunk]:
    """Yield the planned rows in chunks; the same plan, generator state and chunk size always
    yield the same rows."""
    traits = _category_traits(plan.categories)
    title_maker = TitleMaker(plan.categories.names)
    contractors = _RowsWithoutReplacement(plan.contractors.row_counts)
    organizations = _RowsWithoutReplacement(plan.organizations.row_counts)
    # The last "area" is the absence of one.
    areas = _RowsWithoutReplacement(np.append(plan.areas.row_counts, plan.area_nulls))
    categories = _RowsWithoutReplacement(plan.categories.row_counts)
    no_area = len(plan.areas.names)
    for start in range(0, plan.count, chunk_size):
        size = min(chunk_size, plan.count - start)
        category = categories.take(size, rng)
        area = areas.take(size, rng)
        award_day = _award_days(size, rng)
        amount = _amounts(category, traits, rng)
        yield Chunk(
            start=start,
            contractor=contractors.take(size, rng),
            organization=organizations.take(size, rng),
            area=np.where(area == no_area, -1, area),
            category=category,
            amount=amount,
            approved_budget=_approved_budgets(amount, rng),
            award_day=award_day,
            procurement_mode=_procurement_modes(amount, award_day, rng),
            classification=traits.classification[category],
            **_titles(title_maker, category, _years(award_day), rng),
        )


def _titles(
    title_maker: TitleMaker, category: np.ndarray, year: np.ndarray, rng: np.random.Generator
) -> dict[str, list[str]]:
    """Award and notice titles: the notice's for most awards, one of their own for some."""
    notice_titles = title_maker.titles(category, year, rng)
    own = np.flatnonzero(rng.random(len(category)) < OWN_AWARD_TITLE_SHARE)
    titles = list(notice_titles)
    for row, title in zip(own.tolist(), title_maker.titles(category[own], year[own], rng), strict=True):
        titles[row] = title
    return {"titles": titles, "notice_titles": notice_titles}
