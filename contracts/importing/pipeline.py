"""Parsing in a process of its own, so that Python parsing and the writer each get a core.

Parsing is pure Python (~30 us a row) and holds the interpreter lock; on a thread beside the
writer the two took turns at ~20,000 rows/s. Here the calling process reads the stream in
blocks and pipes them to a child process, which decodes, parses and prepares the rows
(`BatchWriter.prepare`) and pipes back chunks of them with the chunk's unawarded count, its
rejections (exact CSV line numbers: the child reads the file in order) and how far into the
file it is. Both pipes block when full, so memory stays bounded whatever the file's size.

The child imports no Django and opens no database connection (`parsing` and `prepared` need
neither); it is started with "spawn" (never a fork of a process holding connections and
threads). It ignores Ctrl-C, which the parent handles; the parent terminates it on any way
out, and a child whose parent died sees its input pipe close and exits. What stops the
child (MissingColumns, UnreadableFile, anything else) is raised again in the parent.
"""

from __future__ import annotations

import contextlib
import io
import multiprocessing
import pickle
import signal
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import IO, Any

from .parsing import ContractRecord, ExportReader, Rejection

# Bytes of the file per message to the child.
_BLOCK = 1 << 20
# Seconds the child gets to stop after terminate() before it is killed.
_STOP_GRACE = 5.0


@dataclass
class Chunk:
    """Consecutive rows of the file, as the writer needs them."""

    items: list[Any] = field(default_factory=list)  # prepared records, in file order
    skipped: int = 0  # unawarded rows
    rejections: list[Rejection] = field(default_factory=list)
    rows: int = 0  # data rows read, all kinds
    position: int = 0  # bytes of the file parsed so far (to a block of read-ahead)
    failure: BaseException | None = None  # parsing stopped after these rows


class ParserDied(RuntimeError):
    """The parsing process ended without a word (killed, out of memory)."""


@contextlib.contextmanager
def parsed_in_child(
    stream: IO[bytes],
    *,
    encoding: str,
    chunk_rows: int,
    prepare: Callable[[ContractRecord], Any],
) -> Iterator[tuple[list[str], Iterator[Chunk]]]:
    """(the header, the file's chunks) parsed by a child process; see the module docstring.

    Raises here what the header raises (MissingColumns, UnreadableFile); a chunk's `failure`
    is what stopped parsing after its rows. Leaving the block stops the child.
    """
    context = multiprocessing.get_context("spawn")
    data_out, data_in = context.Pipe(duplex=False)  # (receiving end, sending end)
    results_out, results_in = context.Pipe(duplex=False)
    child = context.Process(
        target=_parse,
        args=(data_out, results_in, encoding, chunk_rows, prepare),
        name="import-parser",
        daemon=True,
    )
    child.start()
    data_out.close()  # the child's ends: their closing tells either side the other is gone
    results_in.close()
    feeder = threading.Thread(target=_feed, args=(stream, data_in), name="import-feeder", daemon=True)
    feeder.start()
    try:
        first = _receive(results_out)
        if isinstance(first, Chunk):  # the header could not be read
            raise first.failure or ParserDied("the parsing process sent no header")
        yield first, _chunks(results_out)
    finally:
        if child.is_alive():
            child.terminate()
        child.join(_STOP_GRACE)
        if child.is_alive():
            child.kill()
            child.join()
        results_out.close()
        feeder.join()  # its pipe broke with the child
        data_in.close()


def _receive(results: Connection) -> Any:
    try:
        return results.recv()
    except EOFError:
        raise ParserDied("the parsing process stopped unexpectedly") from None


def _chunks(results: Connection) -> Iterator[Chunk]:
    while (chunk := _receive(results)) is not None:
        yield chunk


def _feed(stream: IO[bytes], data: Connection) -> None:
    """The stream to the child, block by block; an empty block ends it."""
    with contextlib.suppress(OSError, ValueError):  # the child stopped: nothing left to feed
        while block := stream.read(_BLOCK):
            data.send_bytes(block)
        data.send_bytes(b"")


class _PipeReader(io.RawIOBase):
    """The parent's blocks as a readable raw stream; `position` is the bytes handed out."""

    def __init__(self, data: Connection) -> None:
        self._data = data
        self._pending = memoryview(b"")
        self._ended = False
        self.position = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if not self._pending and not self._ended:
            self._pending = memoryview(self._data.recv_bytes())  # EOFError: the parent is gone
            self._ended = not self._pending
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        self.position += size
        return size


def _parse(
    data: Connection,
    results: Connection,
    encoding: str,
    chunk_rows: int,
    prepare: Callable[[ContractRecord], Any],
) -> None:
    """The child: parse what arrives on `data`, send the header then chunks, then None."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    raw = _PipeReader(data)
    text = io.TextIOWrapper(io.BufferedReader(raw), encoding=encoding, newline="")
    chunk = Chunk()
    try:
        reader = ExportReader(text, encoding=encoding)
        results.send(reader.read_header())
        for record, rejection in reader:
            chunk.rows += 1
            if record is not None:
                chunk.items.append(prepare(record))
            elif rejection is not None:
                chunk.rejections.append(rejection)
            else:
                chunk.skipped += 1
            if chunk.rows >= chunk_rows:
                chunk.position = raw.position
                results.send(chunk)
                chunk = Chunk()
        chunk.position = raw.position
        results.send(chunk)
        results.send(None)
    except (EOFError, BrokenPipeError):
        return  # the parent is gone or stopped listening
    except BaseException as error:  # sent to the parent, which raises it
        chunk.position = raw.position
        chunk.failure = error if _picklable(error) else RuntimeError(f"{type(error).__name__}: {error}")
        with contextlib.suppress(OSError):
            results.send(chunk)
            results.send(None)


def _picklable(error: BaseException) -> bool:
    try:
        pickle.loads(pickle.dumps(error))  # noqa: S301  # our own bytes, just made
    except Exception:
        return False
    return True
