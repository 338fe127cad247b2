"""Fixtures for saved-search runs: contracts to match and a PhilGEPS export to import."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

HEADER_SOURCE = (
    Path(__file__).parents[1] / "contracts" / "importing" / "fixtures" / "bid_award_details_2024.csv"
)


@pytest.fixture
def export_csv():
    """``export_csv([{"ref", "title", "area", "amount"}, ...])`` → the bytes of a PhilGEPS export."""
    header = next(csv.reader(io.StringIO(HEADER_SOURCE.read_text(encoding="utf-8-sig"))))

    def build(rows: list[dict[str, str]]) -> bytes:
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=header)
        writer.writeheader()
        for row in rows:
            writer.writerow(
                {
                    "Procuring Entity (PE)": "DEPARTMENT OF PUBLIC WORKS AND HIGHWAYS",
                    "Award Reference No.": row["ref"],
                    "Award Title": row["title"],
                    "Area of Delivery": row["area"],
                    "Award Date": "2025-03-01",
                    "Contract Amount": row["amount"],
                    "Awardee Organization Name": "ACME BUILDERS",
                    "Business Category": "Construction Projects",
                }
            )
        return out.getvalue().encode()

    return build
