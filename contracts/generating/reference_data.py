"""The real PhilGEPS entity names and weights that synthetic contracts are drawn from.

The CSVs in `contracts/data/` (see its README) list each area, business category and
procuring entity with its real row count and total value, so generated data has the real
names and the real skew.
"""

from __future__ import annotations

import csv
import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np

DATA_DIR = Path(__file__).resolve().parent.parent / "data"


@dataclass(frozen=True)
class WeightedNames:
    """Names with their real row counts (the sampling weights) and mean contract amounts."""

    names: tuple[str, ...]
    row_counts: np.ndarray
    mean_amounts: np.ndarray

    @property
    def total_rows(self) -> int:
        return int(self.row_counts.sum())


@functools.cache
def weighted_names(kind: str) -> WeightedNames:
    """Load `contracts/data/<kind>.csv`, every name as published (some areas of delivery list
    dozens of provinces in one string, up to 819 characters)."""
    names: list[str] = []
    counts: list[int] = []
    means: list[float] = []
    with (DATA_DIR / f"{kind}.csv").open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            count = int(row["contract_count"])
            if count <= 0:
                continue
            names.append(row["name"])
            counts.append(count)
            means.append(float(row["total_contract_value"]) / count)
    return WeightedNames(tuple(names), np.array(counts, dtype=np.int64), np.array(means))


def all_rows_count() -> int:
    """Rows in the real data set (every row has a business category; not every one an area)."""
    return weighted_names("business_categories").total_rows
