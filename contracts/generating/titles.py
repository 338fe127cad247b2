"""Plausible award titles per business category, rendered a whole chunk at a time.

A per-row `str.format` loop costs seconds per million rows; instead every template is split
into literals and slots once, and each template's rows are built with element-wise
concatenation of numpy object arrays.
"""

from __future__ import annotations

import string
from collections.abc import Sequence

import numpy as np

from . import vocabulary


def title_family(category: str) -> str:
    """The vocabulary family whose templates suit a business category."""
    lowered = category.lower()
    if lowered in vocabulary.CATEGORY_FAMILY_EXACT:
        return vocabulary.CATEGORY_FAMILY_EXACT[lowered]
    for needle, family in vocabulary.CATEGORY_FAMILY_RULES:
        if needle in lowered:
            return family
    return "generic"


def _objects(values: Sequence[str]) -> np.ndarray:
    array = np.empty(len(values), dtype=object)
    array[:] = list(values)
    return array


def _parts(template: str) -> list[tuple[str, str | None]]:
    return [(literal, field) for literal, field, _, _ in string.Formatter().parse(template)]


_SIMPLE_SLOTS = {
    "brgy": _objects(vocabulary.BARANGAYS),
    "office": _objects(vocabulary.OFFICES),
    "event": _objects(vocabulary.EVENTS),
    "program": _objects(vocabulary.PROGRAMS),
    "qtr": _objects(vocabulary.QUARTERS),
    "n": _objects([str(n) for n in range(1, 8)]),
}
_FIRST_YEAR = 2001
_YEARS = _objects([str(year) for year in range(_FIRST_YEAR, 2101)])


def _below(bounds: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A uniform integer in [0, bound) for each bound."""
    return (rng.random(len(bounds)) * bounds).astype(np.int64)


class TitleMaker:
    """Draws titles for rows of given categories (indices into `category_names`)."""

    def __init__(self, category_names: Sequence[str]) -> None:
        families = list(vocabulary.FAMILIES)
        templates: list[str] = []
        items: list[str] = []
        template_start, template_count, item_start, item_count = [], [], [], []
        for family in families:
            family_templates, family_items = vocabulary.FAMILIES[family]
            template_start.append(len(templates))
            template_count.append(len(family_templates))
            templates.extend(family_templates)
            item_start.append(len(items))
            item_count.append(len(family_items))
            items.extend(family_items)
        family_of = np.array([families.index(title_family(name)) for name in category_names], dtype=np.int64)
        self._template_start = np.array(template_start)[family_of]
        self._template_count = np.array(template_count)[family_of]
        self._item_start = np.array(item_start)[family_of]
        self._item_count = np.array(item_count)[family_of]
        self._parts = [_parts(t) for t in templates]
        self._items = _objects(items)
        self._categories = _objects(category_names)

    def titles(self, category: np.ndarray, award_year: np.ndarray, rng: np.random.Generator) -> list[str]:
        size = len(category)
        template = self._template_start[category] + _below(self._template_count[category], rng)
        item = self._item_start[category] + _below(self._item_count[category], rng)
        slots = {name: values[rng.integers(len(values), size=size)] for name, values in _SIMPLE_SLOTS.items()}
        slots["item"] = self._items[item]
        slots["year"] = _YEARS[award_year - _FIRST_YEAR]
        slots["category"] = self._categories[category]

        titles = np.empty(size, dtype=object)
        for t in np.unique(template).tolist():
            rows = np.flatnonzero(template == t)
            text = np.full(len(rows), "", dtype=object)
            for literal, slot in self._parts[t]:
                if literal:
                    text = text + literal
                if slot:
                    text = text + slots[slot][rows]
            titles[rows] = text
        return titles.tolist()
