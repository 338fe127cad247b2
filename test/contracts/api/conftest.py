"""A small hand-made dataset whose every row is there to prove one filter rule."""

from __future__ import annotations

import pytest


@pytest.fixture
def chip_dataset(make_contract) -> dict[str, object]:
    """Six contracts keyed by a short name; see each row's comment for what it tests."""
    rows = {
        # ABC Corp twice, in two areas: OR within contractors, AND with areas.
        "abc_road": make_contract(
            reference_id="R1",
            contractor="ABC Corp",
            organization="DPWH",
            area="Metro Manila",
            business_category="Construction Projects",
            title="Road concreting of barangay road",
            amount="1000000.00",
            award_date="2023-02-10",
        ),
        "abc_books": make_contract(
            reference_id="R2",
            contractor="ABC Corp",
            organization="DepEd",
            area="Cebu",
            business_category="Textbooks",
            title="Supply of textbooks",
            amount="50000.00",
            award_date="2023-05-20",
        ),
        # Upper-case ROAD and BRIDGE: keywords are case-insensitive and all required.
        "xyz_bridge": make_contract(
            reference_id="R3",
            contractor="XYZ Trading",
            organization="DPWH",
            area="Cebu",
            business_category="Construction Projects",
            title="Bridge and ROAD repair",
            amount="5000000.00",
            award_date="2024-04-01",
        ),
        # The last day of 2022: range boundaries are inclusive.
        "xyz_office": make_contract(
            reference_id="R4",
            contractor="XYZ Trading",
            organization="DepEd",
            area="Metro Manila",
            business_category="Office Supplies",
            title="Office supplies delivery",
            amount="12345.67",
            award_date="2022-12-31",
        ),
        # No area, no category: never an area's or category's contract.
        "lone_hospital": make_contract(
            reference_id="R5",
            contractor="Lone Builder",
            organization="DOH",
            area=None,
            business_category=None,
            title="Hospital road access",
            amount="250000.50",
            award_date="2024-07-15",
        ),
        # "ABC Corporation" contains "ABC Corp": a chip matches whole names, not substrings.
        "abc_corporation": make_contract(
            reference_id="R6",
            contractor="ABC Corporation",
            organization="DPWH",
            area="Metro Manila",
            business_category="Construction Projects",
            title="Road widening",
            amount="700000.00",
            award_date="2023-09-30",
        ),
    }
    return rows
