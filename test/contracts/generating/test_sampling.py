"""Drawing synthetic rows, without a database: determinism, shape, and COPY-safe text."""

from __future__ import annotations

import numpy as np
import pytest

from contracts.generating import vocabulary
from contracts.generating.reference_data import weighted_names
from contracts.generating.sampling import (
    Plan,
    contractor_pool_size,
    plan_generation,
    sample_chunks,
)
from contracts.generating.titles import title_family


def _draw(count: int, seed: int, chunk_size: int = 4_000) -> tuple[Plan, list]:
    rng = np.random.default_rng([seed, 1])
    plan = plan_generation(count, rng)
    return plan, list(sample_chunks(plan, rng, chunk_size))


def _columns(chunks: list) -> dict[str, np.ndarray]:
    fields = ("contractor", "organization", "area", "category", "amount", "award_day", "procurement_mode")
    columns = {field: np.concatenate([getattr(c, field) for c in chunks]) for field in fields}
    columns["budget"] = np.concatenate([c.approved_budget for c in chunks])
    columns["titles"] = np.array([t for c in chunks for t in c.titles], dtype=object)
    return columns


def test_the_same_seed_draws_the_same_rows():
    plan_a, chunks_a = _draw(10_000, seed=7)
    plan_b, chunks_b = _draw(10_000, seed=7)
    assert plan_a.contractors.names == plan_b.contractors.names
    a, b = _columns(chunks_a), _columns(chunks_b)
    for field in a:
        assert np.array_equal(a[field], b[field], equal_nan=field == "budget"), field


def test_another_seed_draws_other_rows():
    plan_a, chunks_a = _draw(10_000, seed=7)
    plan_b, chunks_b = _draw(10_000, seed=8)
    assert plan_a.contractors.names != plan_b.contractors.names
    assert not np.array_equal(_columns(chunks_a)["amount"], _columns(chunks_b)["amount"])


def test_every_planned_row_is_drawn_exactly_once_and_every_entity_gets_rows():
    plan, chunks = _draw(10_001, seed=3, chunk_size=3_000)  # a short last chunk
    columns = _columns(chunks)
    assert len(columns["amount"]) == 10_001
    for field, dimension in (
        ("contractor", plan.contractors),
        ("organization", plan.organizations),
        ("category", plan.categories),
    ):
        counts = np.bincount(columns[field], minlength=len(dimension.names))
        assert np.array_equal(counts, dimension.row_counts), field
        assert (counts > 0).all(), field
    assert (columns["area"] == -1).sum() == plan.area_nulls


def test_contractor_pool_scales_with_the_row_count():
    assert contractor_pool_size(10) == 10
    assert contractor_pool_size(1_000) == 36  # at least a few dozen
    assert contractor_pool_size(5_500_000) == pytest.approx(127_000, rel=0.02)


def test_at_full_scale_contracts_per_contractor_are_heavily_skewed():
    plan = plan_generation(5_500_000, np.random.default_rng(42))
    counts = plan.contractors.row_counts
    assert len(set(plan.contractors.names)) == len(counts)  # unique names
    assert np.median(counts) <= 15
    assert 1_000 <= counts.max() <= 30_000


def test_distributions_roughly_hold():
    plan, chunks = _draw(20_000, seed=42)
    columns = _columns(chunks)
    amount = columns["amount"]
    metro_manila = plan.areas.names.index("Metro Manila")
    assert 0.10 <= (columns["area"] == metro_manila).mean() <= 0.20
    construction = columns["category"] == plan.categories.names.index("Construction Projects")
    assert amount[construction].sum() / amount.sum() > 0.5
    assert 1e6 <= np.median(amount[construction]) <= 30e6
    assert 155_000 / 3 <= np.median(amount) <= 155_000 * 3
    assert (amount == 1_000_000).sum() > 5 * (
        (amount > 990_000) & (amount < 1_010_000) & (amount != 1e6)
    ).sum()
    budget = columns["budget"]
    assert (budget[~np.isnan(budget)] >= amount[~np.isnan(budget)]).mean() > 0.9


def test_titles_read_like_their_category():
    assert title_family("Construction Projects") == "civil_works"
    assert title_family("Drugs and Medicines") == "medicines"
    assert title_family("Hospital / Medical Equipment Services") == "repair_services"
    assert title_family("Services") == "services"
    assert title_family("Flags") == "generic"
    plan, chunks = _draw(5_000, seed=42)
    columns = _columns(chunks)
    by_category = {}
    for category, title in zip(columns["category"].tolist(), columns["titles"].tolist(), strict=True):
        by_category.setdefault(plan.categories.names[category], []).append(title)
    assert any("Road" in t for t in by_category["Construction Projects"])
    medicine_words = ("Medicines", "mg", "Vaccines", "Insulin", "Fluids", "Salts")
    assert all(any(w in t for w in medicine_words) for t in by_category["Drugs and Medicines"])
    assert any(
        t.startswith("Supply and Delivery of Office Supplies")
        for t in by_category["Office Supplies and Devices"]
    )


def test_generated_text_needs_no_copy_escaping():
    words = [
        *vocabulary.SURNAMES, *vocabulary.FIRST_NAMES, *vocabulary.BRAND_WORDS, *vocabulary.INITIALS,
        *vocabulary.BARANGAYS, *vocabulary.OFFICES, *vocabulary.EVENTS, *vocabulary.PROGRAMS,
        *(p for _, p in (*vocabulary.CONTRACTOR_OWNERS, *vocabulary.CONTRACTOR_BUSINESS_LINES)),
        *(t for templates, items in vocabulary.FAMILIES.values() for t in (*templates, *items)),
        *weighted_names("business_categories").names,  # the generic titles quote category names
    ]  # fmt: skip
    assert not [w for w in words if any(c in w for c in "\t\n\r\\")]


def test_empty_areas_and_long_area_lists_are_drawn_as_in_the_real_data():
    plan, chunks = _draw(20_000, seed=3)
    area = np.concatenate([c.area for c in chunks])

    assert 0 < (area == -1).sum() < len(area) * 0.2  # some rows have no area of delivery
    long_lists = [name for name in plan.areas.names if len(name) > 500]
    assert len(long_lists) == 3  # every real list longer than 500 characters, 819 the longest
    assert max(map(len, long_lists)) == 819
    used = {plan.areas.names[i] for i in np.unique(area[area >= 0]).tolist()}
    assert set(long_lists) <= used


def test_every_row_has_a_notice_title_and_some_awards_have_their_own_title():
    _, chunks = _draw(5_000, seed=3)
    pairs = [(t, n) for c in chunks for t, n in zip(c.titles, c.notice_titles, strict=True)]

    assert all(notice for _, notice in pairs)
    differ = sum(title != notice for title, notice in pairs) / len(pairs)
    assert 0.03 < differ < 0.2
