"""Finding the columns of both PhilGEPS header generations by name."""

from __future__ import annotations

import pytest

from contracts.importing.columns import ColumnMap, Field, MissingColumns

NEWER = [
    "Procuring Entity (PE)",
    "Bid Reference No.",
    "Notice Title",
    "Award Reference No.",
    "Award Title",
    "Award Date",
    "Contract Amount",
    "Awardee Organization Name",
]
OLDER = [
    "Organization Name",
    "Reference ID",
    "Notice Title",
    "Award No.",
    "Award Title",
    "Award Date",
    "Contract Amount",
    "Awardee Corporate Title",
]


@pytest.mark.parametrize("header", [NEWER, OLDER], ids=["newer", "older"])
def test_both_header_generations_map_to_the_same_fields(header):
    row = [f"cell {i}" for i in range(len(header))]
    values = ColumnMap.from_header(header).values(row)
    assert values[Field.PROCURING_ENTITY] == "cell 0"
    assert values[Field.BID_REFERENCE] == "cell 1"
    assert values[Field.AWARD_REFERENCE] == "cell 3"
    assert values[Field.AWARDEE] == "cell 7"
    assert values[Field.LINE_ITEM] is None  # no such column in this file


def test_columns_are_found_by_name_not_position():
    shuffled = list(reversed(NEWER))
    values = ColumnMap.from_header(shuffled).values(list(reversed(range(len(NEWER)))))
    assert values[Field.AWARD_DATE] == NEWER.index("Award Date")


def test_headers_match_ignoring_case_spacing_bom_and_a_trailing_full_stop():
    header = ["\ufeffprocuring entity (pe)", "  AWARD  REFERENCE NO. ", "award title", "Award date ",
              "CONTRACT AMOUNT", "awardee organization name", "Line Item No."]  # fmt: skip
    columns = ColumnMap.from_header(header)
    assert columns.positions[Field.PROCURING_ENTITY] == 0
    assert columns.positions[Field.AWARD_REFERENCE] == 1
    assert columns.positions[Field.LINE_ITEM] == 6


def test_unknown_columns_are_ignored():
    columns = ColumnMap.from_header([*NEWER, "UNSPSC Code", "Awardee Size"])
    assert columns.width == len(NEWER) + 2
    assert len(columns.positions) == len(NEWER)


def test_awardee_is_not_confused_with_the_older_procuring_entity_column():
    # "Organization Name" (older procuring entity) vs "Awardee Organization Name" (newer awardee).
    header = ["Organization Name", "Award No.", "Award Title", "Award Date", "Contract Amount",
              "Awardee Organization Name"]  # fmt: skip
    columns = ColumnMap.from_header(header)
    assert columns.positions[Field.AWARDEE] == 5
    assert columns.positions[Field.PROCURING_ENTITY] == 0


def test_a_missing_required_column_is_named():
    header = [h for h in NEWER if h not in ("Award Date", "Contract Amount")]
    with pytest.raises(MissingColumns) as raised:
        ColumnMap.from_header(header)
    message = str(raised.value)
    assert '"Award Date"' in message
    assert '"Contract Amount"' in message
    assert "Awardee" not in message


def test_either_title_column_is_enough():
    ColumnMap.from_header([h for h in NEWER if h != "Award Title"])
    with pytest.raises(MissingColumns, match='"Award Title" or "Notice Title"'):
        ColumnMap.from_header([h for h in NEWER if h not in ("Award Title", "Notice Title")])
