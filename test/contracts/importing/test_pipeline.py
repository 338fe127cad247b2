"""The parsing processes: what crosses the process boundary, blocks cut at row boundaries,
and that no child outlives the import (no database here: the children have none)."""

from __future__ import annotations

import io
import multiprocessing
import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from contracts.importing.columns import MissingColumns
from contracts.importing.parsing import UnreadableFile
from contracts.importing.pipeline import CHUNKS_AHEAD, Chunk, ParserDied, parsed_in_children
from contracts.importing.prepared import CopyItem, copy_item, same_record

FIXTURES = Path(__file__).parent / "fixtures"
NEWER = FIXTURES / "bid_award_details_2024.csv"
OLDER = FIXTURES / "bid_award_details_2012.csv"
HEADER = b"Award No.,Award Title,Awardee Corporate Title,Organization Name,Contract Amount,Award Date\n"


def parse_all(
    data: bytes, *, block_bytes: int = 1 << 20, prepare=same_record, encoding: str = "utf-8-sig"
) -> tuple[list[str], list[Chunk]]:
    """The header and the chunks up to the first that failed, as the importer reads them."""
    stream = io.BytesIO(data)
    with parsed_in_children(
        stream, encoding=encoding, prepare=prepare, parsers=2, block_bytes=block_bytes
    ) as (header, chunks):
        read: list[Chunk] = []
        for chunk in chunks:
            read.append(chunk)
            if chunk.failure is not None:
                break
        return header, read


def test_no_child_is_left_behind_after_any_test():
    assert multiprocessing.active_children() == []


@pytest.mark.parametrize(
    ("path", "references", "rejected_lines"), [(NEWER, 5, [8, 9, 10, 12]), (OLDER, 2, [5])]
)
@pytest.mark.parametrize("block_bytes", [1 << 20, 100, 1])  # one block; several per child; a row each
def test_both_header_generations_cross_with_exact_reject_lines(path, references, rejected_lines, block_bytes):
    header, chunks = parse_all(path.read_bytes(), block_bytes=block_bytes)

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

    items = [CopyItem(*item) for item in chunks[0].items]
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

    _, chunks = parse_all(HEADER + good + bad * 20_000, block_bytes=1000)

    assert isinstance(chunks[-1].failure, UnreadableFile)
    assert str(chunks[-1].failure).startswith("the file is not utf-8-sig text (line 252): ")
    assert sum(len(chunk.items) for chunk in chunks) == 250
    assert all(chunk.failure is None for chunk in chunks[:-1])


def test_quoted_newlines_and_bare_carriage_returns_keep_rows_whole_and_lines_exact():
    rows = [
        b'1,"Road\nwith ""two"" lines",ACME,DPWH,100,01/01/2024',
        b"2,Bridge,ACME,DPWH,TBD,01/01/2024",  # rejected: the amount
        b'3,"Three\r\nline\ntitle",ACME,DPWH,100,01/01/2024',
        b"4,School,ACME,DPWH,oops,01/01/2024",  # rejected
    ]
    for ending in (b"\n", b"\r\n", b"\r"):
        data = HEADER.replace(b"\n", ending) + ending.join(rows) + ending
        for block_bytes in (1, 7, 64, 1 << 20):
            _, chunks = parse_all(data, block_bytes=block_bytes)

            titles = [item.title for chunk in chunks for item in chunk.items]
            assert titles == ['Road\nwith "two" lines', "Three\r\nline\ntitle"], (ending, block_bytes)
            assert [r.line for chunk in chunks for r in chunk.rejections] == [4, 8], (ending, block_bytes)


def test_an_encoding_that_is_not_ascii_compatible_is_parsed_too():
    text = NEWER.read_bytes().decode("utf-8-sig")

    _, chunks = parse_all(text.encode("utf-16"), encoding="utf-16", block_bytes=50)

    assert [r.line for chunk in chunks for r in chunk.rejections] == [8, 9, 10, 12]
    assert sum(len(chunk.items) for chunk in chunks) == 5


def parsing_many_rows() -> Any:
    """200,000 small rows in 500-byte blocks: children still busy when a test interrupts them."""
    rows = b"".join(b"%d,Road,ACME,DPWH,100,01/01/2024\n" % n for n in range(1, 200_001))
    return parsed_in_children(
        io.BytesIO(HEADER + rows), encoding="utf-8", prepare=same_record, block_bytes=500
    )


def test_a_killed_parser_is_reported_not_waited_for():
    with pytest.raises(ParserDied), parsing_many_rows() as (_, chunks):
        next(chunks)
        for child in multiprocessing.active_children():
            os.kill(child.pid, signal.SIGKILL)
        for _ in chunks:
            pass
    assert multiprocessing.active_children() == []


@pytest.mark.parametrize("error", [KeyboardInterrupt, RuntimeError])
def test_leaving_early_stops_the_child(error):
    with pytest.raises(error), parsing_many_rows() as (_, chunks):
        next(chunks)
        raise error  # Ctrl-C, or a failed batch, while the child is still parsing
    assert multiprocessing.active_children() == []


def test_the_children_parse_ahead_while_the_writer_is_busy_but_no_further_than_chunks_ahead():
    rows = b"".join(b"%d,Road,ACME,DPWH,100,01/01/2024\n" % n for n in range(1, 200_001))
    stream = io.BytesIO(HEADER + rows)
    block = 100_000  # larger than a pipe holds: a child that cannot send blocks at once

    with parsed_in_children(stream, encoding="utf-8", prepare=same_record, parsers=2, block_bytes=block) as (
        _,
        chunks,
    ):
        next(chunks)  # then the writer is busy: it takes no chunk for a while
        read, deadline = -1, time.monotonic() + 30
        while stream.tell() != read and time.monotonic() < deadline:
            read = stream.tell()
            time.sleep(0.5)
        assert sum(1 for _ in chunks) > 0

    # Each child holds about three blocks (arriving, parsing, being sent); the rest were
    # received ahead for the writer, and the reading stopped there.
    assert (CHUNKS_AHEAD + 1) * block <= read <= (CHUNKS_AHEAD + 1 + 2 * 4) * block < len(HEADER + rows)
