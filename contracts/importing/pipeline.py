"""Parsing in processes of their own, so that parsing uses every core the writer leaves.

Parsing is pure Python (~15 us of CPU a row) and holds the interpreter lock: on a thread beside the
writer it set the pace (~33,000 rows/s at best), and one parsing process alone would too.
So the file is cut into blocks at row boundaries (a newline outside quotes: in CSV a quote
inside a field is doubled, so a newline is a row's end when the quotes before it are even),
and the blocks go round-robin to `PARSERS` child processes. Each decodes and parses its
blocks, prepares the records (`BatchWriter.prepare`) and pipes back one `Chunk` per block;
a thread of the writer's receives the chunks in block order, so rows keep the file's order
(a later row for a reference still supersedes an earlier one) and each block's first line is
known: reject line numbers are exact. That thread keeps up to CHUNKS_AHEAD chunks ready while
the writer waits on PostgreSQL; with the writer receiving them itself, each child blocked on
its full pipe after one chunk, and the import ran parsing and writing by turns (streaming 1M
rows: 32.6 s, now 19.6 s). Every pipe and that queue block when full, so memory stays
bounded (a few blocks per child, CHUNKS_AHEAD chunks) whatever the file's size.

The header is read here, so a missing column is raised before any child starts. Files in an
encoding that is not ASCII-compatible (UTF-16) are re-encoded to UTF-8 on the way. The
children import no Django and open no database connection (`parsing` and `prepared` need
neither); they are started with "spawn" (never a fork of a process holding connections and
threads), ignore Ctrl-C (the parent handles it) and are terminated on any way out; a child
whose parent died sees its input pipe close and exits. What stops a child is raised again
here.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import multiprocessing
import os
import pickle
import queue
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import IO, Any

from .columns import ColumnMap, MissingColumns
from .parsing import ContractRecord, ExportReader, Rejection, RowParser, UnreadableFile, not_in_encoding

# Parsing processes: the writer and PostgreSQL need a share of the cores too.
PARSERS = max(1, min(2, os.cpu_count() or 1))
# Bytes of the file read at a time; a block is cut back to its last row boundary (~1,500 rows).
BLOCK_BYTES = 1 << 20
# Chunks received ahead of the writer: while it waits on PostgreSQL for a batch (~7 chunks),
# the children keep parsing instead of blocking on a full pipe.
CHUNKS_AHEAD = 16
# Seconds a child gets to stop after terminate() before it is killed.
_STOP_GRACE = 5.0


@dataclass
class Chunk:
    """One block's rows, as the writer needs them."""

    items: list[Any] = field(default_factory=list)  # prepared records, in file order
    skipped: int = 0  # unawarded rows
    rejections: list[Rejection] = field(default_factory=list)
    rows: int = 0  # data rows read, all kinds
    position: int = 0  # bytes of the file read up to this block's end
    failure: BaseException | None = None  # parsing stopped after these rows


class ParserDied(RuntimeError):
    """A parsing process ended without a word (killed, out of memory)."""


@dataclass(frozen=True)
class _Block:
    first_line: int  # the file's line the block starts on
    position: int  # bytes of the file read up to the block's end
    data: bytes


@contextlib.contextmanager
def parsed_in_children(
    stream: IO[bytes],
    *,
    encoding: str,
    prepare: Callable[[ContractRecord], Any],
    parsers: int = PARSERS,
    block_bytes: int = BLOCK_BYTES,
) -> Iterator[tuple[list[str], Iterator[Chunk]]]:
    """(the header, the file's chunks in order); see the module docstring.

    Raises MissingColumns or UnreadableFile here when the header is missing or unreadable;
    a chunk's `failure` is what stopped parsing after its rows. Leaving the block stops the
    children.
    """
    encoding, stream = _ascii_compatible(encoding, stream)
    blocks = _RowBlocks(stream, block_bytes)
    header = _header(blocks.header(), encoding)
    ColumnMap.from_header(header)  # MissingColumns before anything starts
    context = multiprocessing.get_context("spawn")
    children: list[multiprocessing.process.BaseProcess] = []
    inputs: list[Connection] = []
    outputs: list[Connection] = []
    feeder: threading.Thread | None = None
    collector: _Collector | None = None
    try:
        for number in range(parsers):
            data_out, data_in = context.Pipe(duplex=False)  # (receiving end, sending end)
            results_out, results_in = context.Pipe(duplex=False)
            child = context.Process(
                target=_parse,
                args=(data_out, results_in, header, encoding, prepare),
                name=f"import-parser-{number}",
                daemon=True,
            )
            with _main_script_hidden():
                child.start()
            data_out.close()  # the child's ends: their closing tells either side the other is gone
            results_in.close()
            children.append(child)
            inputs.append(data_in)
            outputs.append(results_out)
        feeder = threading.Thread(target=_feed, args=(blocks, inputs, encoding), daemon=True)
        feeder.start()
        collector = _Collector(outputs)
        yield header, iter(collector)
    finally:
        if collector is not None:
            collector.stop()
        for child in children:
            if child.is_alive():
                child.terminate()
        for child in children:
            child.join(_STOP_GRACE)
            if child.is_alive():
                child.kill()
                child.join()
        if collector is not None:
            collector.join()  # its pipes broke with the children
        for connection in outputs:
            connection.close()
        if feeder is not None:
            feeder.join()  # its pipes broke with the children
        for connection in inputs:
            connection.close()


@contextlib.contextmanager
def _main_script_hidden() -> Iterator[None]:
    """ "spawn" runs the parent's main script again in each child (as `__mp_main__`) when it
    was started as a path; the children need nothing from it, and a script without a
    `__main__` guard would run itself again. Without `__file__` spawn leaves it alone."""
    main = sys.modules["__main__"]
    path = main.__dict__.pop("__file__", None)
    try:
        yield
    finally:
        if path is not None:
            main.__file__ = path


def _ascii_compatible(encoding: str, stream: IO[bytes]) -> tuple[str, IO[bytes]]:
    """Blocks are cut on the bytes of newline and quote: fine for UTF-8, Latin-1, cp1252 and
    the like; any other encoding is re-encoded to UTF-8 first."""
    name = codecs.lookup(encoding).name
    if name == "utf-8-sig" or '\r\n",'.encode(encoding) == b'\r\n",':
        return encoding, stream
    return "utf-8", codecs.EncodedFile(stream, "utf-8", encoding)  # type: ignore[return-value]


def _header(data: bytes, encoding: str) -> list[str]:
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as error:
        raise UnreadableFile(not_in_encoding(encoding, "line 1", error)) from error
    try:
        header = next(csv.reader(io.StringIO(text, newline="")), None)
    except csv.Error as error:
        raise UnreadableFile(f"line 1: unreadable CSV ({error})") from error
    if header is None:
        raise MissingColumns("the file is empty: no header row")
    return header


def _lines(data: bytes) -> int:
    """Physical lines as csv counts them (a line ends at \\n, \\r or \\r\\n)."""
    return data.count(b"\n") + data.count(b"\r") - data.count(b"\r\n")


class _RowBlocks:
    """The stream's bytes in blocks that each start and end at a row boundary."""

    def __init__(self, stream: IO[bytes], block_bytes: int) -> None:
        self._stream = stream
        self._size = block_bytes
        self._carry = b""
        self._position = 0
        self._line = 1

    def header(self) -> bytes:
        """The bytes of the header row (the blocks start after it)."""
        while True:
            cut = _row_end(self._carry, first=True)
            if cut is not None:
                break
            data = self._stream.read(self._size)
            self._position += len(data)
            if not data:
                cut = len(self._carry)
                break
            self._carry += data
        header, self._carry = self._carry[:cut], self._carry[cut:]
        self._line += _lines(header)
        return header

    def __iter__(self) -> Iterator[_Block]:
        while True:
            data = self._stream.read(self._size)
            self._position += len(data)
            buffer = self._carry + data
            cut = len(buffer) if not data else _row_end(buffer, first=False)
            if cut is None:  # one row longer than a block: read on
                self._carry = buffer
                continue
            block, self._carry = buffer[:cut], buffer[cut:]
            if block:
                yield _Block(self._line, self._position - len(self._carry), block)
                self._line += _lines(block)
            if not data:
                return


def _row_end(buffer: bytes, *, first: bool) -> int | None:
    """Just past the first (or last) row ending in `buffer` outside quotes; None when there is
    none. The buffer starts at a row boundary. A row ends at \n, or at a \r not followed by
    \n (a \r at the very end may be the first half of a \r\n still unread)."""
    start, limit = 0, len(buffer)
    while True:
        if first:
            found = [at for at in (buffer.find(b"\n", start), buffer.find(b"\r", start)) if at >= 0]
            at = min(found, default=-1)
            start = at + 1
        else:
            at = max(buffer.rfind(b"\n", 0, limit), buffer.rfind(b"\r", 0, limit))
            limit = at
        if at < 0:
            return None
        if buffer[at] == 13 and buffer[at + 1 : at + 2] in (b"\n", b""):  # 13: \r
            continue
        if buffer.count(b'"', 0, at) % 2 == 0:
            return at + 1


def _feed(blocks: _RowBlocks, inputs: list[Connection], encoding: str) -> None:
    """The blocks to the children in turn, then None to each; a read error goes as a message."""
    count = 0
    with contextlib.suppress(OSError, ValueError):  # a child stopped: nothing left to feed
        try:
            for block in blocks:
                inputs[count % len(inputs)].send(block)
                count += 1
        except UnicodeError as error:  # re-encoding to UTF-8 failed
            inputs[count % len(inputs)].send(not_in_encoding(encoding, "", error))
            return
        for offset in range(len(inputs)):
            inputs[(count + offset) % len(inputs)].send(None)


class _Collector:
    """Receives the children's chunks in block order on a thread of its own, up to
    CHUNKS_AHEAD ahead of the writer; iterating yields them until the child due next says
    there are no more (or has died: ParserDied)."""

    _DIED = object()

    def __init__(self, outputs: list[Connection]) -> None:
        self._outputs = outputs
        self._queue: queue.Queue[Any] = queue.Queue(CHUNKS_AHEAD)
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._receive, name="import-collector", daemon=True)
        self._thread.start()

    def __iter__(self) -> Iterator[Chunk]:
        while True:
            chunk = self._queue.get()
            if chunk is None:
                return
            if chunk is self._DIED:
                raise ParserDied("a parsing process stopped unexpectedly")
            yield chunk

    def stop(self) -> None:
        """No more chunks are wanted: the thread ends once its pipe breaks or its put times out."""
        self._stopped.set()

    def join(self) -> None:
        self._thread.join()

    def _receive(self) -> None:
        count = 0
        while True:
            try:
                chunk = self._outputs[count % len(self._outputs)].recv()
            except (EOFError, OSError):
                chunk = self._DIED
            if not self._put(chunk) or chunk is None or chunk is self._DIED:
                return
            count += 1

    def _put(self, item: Any) -> bool:
        while not self._stopped.is_set():
            try:
                self._queue.put(item, timeout=0.1)
            except queue.Full:
                continue
            return True
        return False


def _parse(
    data: Connection,
    results: Connection,
    header: list[str],
    encoding: str,
    prepare: Callable[[ContractRecord], Any],
) -> None:
    """A child: parse each block that arrives on `data`, send a Chunk for each, then None."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    parser = RowParser(ColumnMap.from_header(header))
    try:
        while (block := data.recv()) is not None:
            results.send(_parsed(block, parser, encoding, prepare))
        results.send(None)
    except (EOFError, BrokenPipeError):
        return  # the parent is gone or stopped listening


def _parsed(
    block: _Block | str, parser: RowParser, encoding: str, prepare: Callable[[ContractRecord], Any]
) -> Chunk:
    if isinstance(block, str):  # the feeder could not read on
        return Chunk(failure=UnreadableFile(block))
    chunk = Chunk(position=block.position)
    try:
        try:
            text = block.data.decode(encoding)
        except UnicodeDecodeError as error:
            head = block.data[: error.start]
            line = block.first_line + _lines(head)
            chunk.failure = UnreadableFile(not_in_encoding(encoding, f"line {line}", error))
            text = head[: _row_end(head, first=False) or 0].decode(encoding)  # the whole rows before
        if "\x00" in text:  # a NUL is padding, not text; PostgreSQL's text cannot hold one
            text = text.replace("\x00", "")
        reader = ExportReader.continued(
            io.StringIO(text, newline=""), encoding=encoding, parser=parser, first_line=block.first_line
        )
        for record, rejection in reader:
            chunk.rows += 1
            if record is not None:
                chunk.items.append(prepare(record))
            elif rejection is not None:
                chunk.rejections.append(rejection)
            else:
                chunk.skipped += 1
    except Exception as error:  # sent to the parent, which raises it
        chunk.failure = error if _picklable(error) else RuntimeError(f"{type(error).__name__}: {error}")
    return chunk


def _picklable(error: BaseException) -> bool:
    try:
        pickle.loads(pickle.dumps(error))  # noqa: S301  # our own bytes, just made
    except Exception:
        return False
    return True
