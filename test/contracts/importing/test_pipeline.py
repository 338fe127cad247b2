"""The parsing process: what crosses the process boundary, and that the child never outlives
the import (no database here: the child has none)."""

from __future__ import annotations

import io
import multiprocessing
import os
import signal
from pathlib import Path

import pytest

from contracts.importing.columns import MissingColumns
from contracts.importing.parsing import UnreadableFile
from contracts.importing.pipeline import Chunk, ParserDied, parsed_in_child
from contracts.importing.prepared import CopyItem, copy_item, same_record

FIXTURES = Path(__file__).parent / "fixtures"
NEWER = FIXTURES / "bid_award_details_2024.csv"
OLDER = FIXTURES / "bid_award_details_2012.csv"
HEADER = b"Award No.,Award Title,Awardee Corporate Title,Organization Name,Contract Amount,Award Date\n"


def parse_all(data: bytes, *, chunk_rows: int = 1000, prepare=same_record) -> tuple[list[str], list[Chunk]]:
    with parsed_in_child(io.BytesIO(data), encoding="utf-8-sig", chunk_rows=chunk_rows, prepare=prepare) as (
        header,
        chunks,
    ):
        return header, list(chunks)


def test_no_child_is_left_behind_after_any_test():
    assert multiprocessing.active_children() == []


@pytest.mark.parametrize(
    ("path", "references", "rejected_lines"), [(NEWER, 5, [8, 9, 10, 12]), (OLDER, 2, [5])]
)
def test_both_header_generations_cross_with_exact_reject_lines(path, references, rejected_lines):
    header, chunks = parse_all(path.read_bytes(), chunk_rows=2)

    assert header[0].lstrip("\ufeff") in ("Procuring Entity (PE)", "Organization Name")
    records = [item for chunk in chunks for item in chunk.items]
    assert len(records) == references
    assert [r.line for chunk in chunks for r in chunk.rejections] == rejected_lines
    rows = sum(chunk.rows for chunk in chunks)
    assert rows == len(records) + sum(len(c.rejections) + c.skipped for c in chunks)
    assert chunks[-1].position == path.stat().st_size
    assert multiprocessing.active_children() == []


def test_copy_items_escape_what_copy_text_reserves():
    data = (
        HEADER
        + b'1,"Road\\Bridge\ttab",ACME,DPWH,100,01/01/2024\n'
        + b'2,"Two\nlines",ACME,DPWH,"1,000.50",02/01/2024\n'
    )

    _, chunks = parse_all(data, prepare=copy_item)

    items = chunks[0].items
    assert all(isinstance(item, CopyItem) for item in items)
    assert items[0].text.split("\t")[:2] == ["1", "Road\\\\Bridge\\ttab"]
    assert items[1].text.split("\t")[:5] == ["2", "Two\\nlines", "", "1000.50", "2024-01-02"]
    assert (items[0].contractor, items[0].organization, items[0].area) == ("ACME", "DPWH", None)


def test_a_missing_column_is_raised_in_the_parent_as_itself():
    with pytest.raises(MissingColumns, match="Contract Amount"):
        parse_all(FIXTURES.joinpath("missing_columns.csv").read_bytes())
    assert multiprocessing.active_children() == []


def test_a_file_that_breaks_off_part_way_keeps_the_rows_before():
    good = b"".join(b"%d,Road,ACME,DPWH,100,01/01/2024\n" % n for n in range(1, 251))
    bad = b"999,Road,CAF\xc9 BUILDERS,DPWH,100,01/01/2024\n"

    _, chunks = parse_all(HEADER + good + bad * 20_000, chunk_rows=100)

    assert isinstance(chunks[-1].failure, UnreadableFile)
    assert "not utf-8-sig text" in str(chunks[-1].failure)
    # Text is decoded a block ahead of the csv reader: the last few good rows share the bad block.
    assert 200 <= sum(len(chunk.items) for chunk in chunks) <= 250
    assert all(chunk.failure is None for chunk in chunks[:-1])


def test_a_killed_parser_is_reported_not_waited_for():
    rows = b"".join(b"%d,Road,ACME,DPWH,100,01/01/2024\n" % n for n in range(1, 200_001))

    with (
        pytest.raises(ParserDied),
        parsed_in_child(io.BytesIO(HEADER + rows), encoding="utf-8", chunk_rows=10, prepare=same_record) as (
            _,
            chunks,
        ),
    ):
        next(chunks)
        (child,) = multiprocessing.active_children()
        os.kill(child.pid, signal.SIGKILL)
        for _ in chunks:
            pass
    assert multiprocessing.active_children() == []


@pytest.mark.parametrize("error", [KeyboardInterrupt, RuntimeError])
def test_leaving_early_stops_the_child(error):
    rows = b"".join(b"%d,Road,ACME,DPWH,100,01/01/2024\n" % n for n in range(1, 200_001))

    with (
        pytest.raises(error),
        parsed_in_child(io.BytesIO(HEADER + rows), encoding="utf-8", chunk_rows=10, prepare=same_record) as (
            _,
            chunks,
        ),
    ):
        next(chunks)
        raise error  # Ctrl-C, or a failed batch, while the child is still parsing
    assert multiprocessing.active_children() == []
