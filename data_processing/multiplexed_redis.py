"""One Redis connection per event loop, shared by every coroutine that reads through it.

Written by hand, for a measured reason. redis-py's asyncio client checks a connection out of
its pool for each command, reads the reply on it and hands it back: on this project's 2-core
machine that cost 90 µs of CPU a command one at a time and 45 µs under 50 concurrent callers,
more than the rest of a status poll. coredis (58 µs) and asyncio-redis (44 µs) measured no
better. Redis answers the commands of one connection in the order it received them, so one
connection can carry every concurrent command: each caller's command is queued with a future,
the commands queued in one pass of the event loop go out in one write, and the reader resolves
the futures in order as replies arrive. That costs 39 µs a command one at a time and 6 µs under
50 concurrent callers (``test/bench_request_cost.py`` and ``test/bench_job_api.py`` show it in
whole requests).

Only plain request/reply commands belong here (GET, HGET and the like): no blocking commands,
no pub/sub, no MULTI, nothing that changes the connection's state. Faults surface as redis-py's
exceptions, so callers handle them as they would redis-py's: a lost connection fails every
command waiting on it with ``ConnectionError`` and the next command connects again; a reply
later than the timeout closes the connection the same way, with ``TimeoutError``; an error
reply raises ``ResponseError`` for that command only.
"""

from __future__ import annotations

import asyncio
import collections
import ssl
import weakref
from typing import Any

from redis.connection import parse_url
from redis.exceptions import ConnectionError, InvalidResponse, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

_INCOMPLETE = object()


def pack(args: tuple[bytes | str | int, ...]) -> bytes:
    """A command in RESP, the form Redis reads."""
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        value = arg if isinstance(arg, bytes) else str(arg).encode()
        parts.append(b"$%d\r\n%b\r\n" % (len(value), value))
    return b"".join(parts)


def parse(buffer: bytes | bytearray, start: int) -> tuple[Any, int]:
    """The reply that begins at ``start`` and where the next one begins; ``_INCOMPLETE`` when
    the buffer does not hold all of it yet. Errors are returned, not raised: they belong to
    one command."""
    end = buffer.find(b"\r\n", start)
    if end < 0:
        return _INCOMPLETE, start
    kind, line, after = buffer[start], buffer[start + 1 : end], end + 2
    if kind == 36:  # $ bulk string
        size = int(line)
        if size < 0:
            return None, after
        if after + size + 2 > len(buffer):
            return _INCOMPLETE, start
        return bytes(buffer[after : after + size]), after + size + 2
    if kind == 43:  # + simple string
        return bytes(line), after
    if kind == 58:  # : integer
        return int(line), after
    if kind == 45:  # - error
        return ResponseError(bytes(line).decode(errors="replace")), after
    if kind == 42:  # * array
        count = int(line)
        if count < 0:
            return None, after
        items, position = [], after
        for _ in range(count):
            item, position = parse(buffer, position)
            if item is _INCOMPLETE:
                return _INCOMPLETE, start
            items.append(item)
        return items, position
    raise InvalidResponse(f"Unexpected reply type {chr(kind)!r} from Redis")


class _Protocol(asyncio.Protocol):
    """One connection: queued commands out, replies in, matched in order."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.lost = False
        self._loop = asyncio.get_running_loop()
        self._transport: asyncio.Transport | None = None
        self._buffer = bytearray()
        self._outgoing: list[bytes] = []
        self._waiting: collections.deque[tuple[asyncio.Future[Any], float]] = collections.deque()
        self._watchdog: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]

    def send(self, packed: bytes) -> asyncio.Future[Any]:
        """Queue one packed command; the future gets its reply (an error reply as a value)."""
        if self.lost:
            raise ConnectionError("Connection to Redis lost")
        future = self._loop.create_future()
        if not self._outgoing:
            self._loop.call_soon(self._flush)
        self._outgoing.append(packed)
        self._waiting.append((future, self._loop.time() + self.timeout))
        if self._watchdog is None:
            self._watchdog = self._loop.call_at(self._waiting[0][1], self._check_deadline)
        return future

    def _flush(self) -> None:
        if self._outgoing and not self.lost:
            self._transport.write(b"".join(self._outgoing))
        self._outgoing.clear()

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer
        buffer += data
        position = 0
        try:
            while position < len(buffer):
                reply, position = parse(buffer, position)
                if reply is _INCOMPLETE:
                    break
                future, _ = self._waiting.popleft()
                if not future.done():  # its caller may have been cancelled meanwhile
                    future.set_result(reply)
        except (InvalidResponse, IndexError, ValueError) as exc:
            self._abort(InvalidResponse(f"Unreadable reply from Redis: {exc}"))
            return
        del buffer[:position]

    def _check_deadline(self) -> None:
        self._watchdog = None
        if not self._waiting:
            return
        oldest_deadline = self._waiting[0][1]
        if oldest_deadline <= self._loop.time():
            self._abort(RedisTimeoutError("Timeout reading from Redis"))
        else:
            self._watchdog = self._loop.call_at(oldest_deadline, self._check_deadline)

    def _abort(self, exc: Exception) -> None:
        self._fail_all(exc)
        if self._transport is not None:
            self._transport.abort()

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail_all(ConnectionError("Connection to Redis lost"))

    def _fail_all(self, exc: Exception) -> None:
        self.lost = True
        self._outgoing.clear()
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None
        while self._waiting:
            future, _ = self._waiting.popleft()
            if not future.done():
                future.set_exception(exc)


class MultiplexedRedis:
    """The commands of every coroutine on one event loop, over one connection to ``url``."""

    def __init__(self, url: str, *, timeout: float = 5.0) -> None:
        self.url = url
        self._options = parse_url(url)
        self._timeout = timeout
        self._protocol: _Protocol | None = None
        self._connecting = asyncio.Lock()

    async def execute(self, *args: bytes | str | int) -> Any:
        """One command's reply."""
        reply = await (await self._connection()).send(pack(args))
        if isinstance(reply, ResponseError):
            raise reply
        return reply

    async def execute_many(self, *commands: tuple[bytes | str | int, ...]) -> list[Any]:
        """Several commands sent together (a pipeline, not a transaction); their replies in
        order. An error reply raises, as a redis-py pipeline does, once all have arrived."""
        protocol = await self._connection()
        futures = [protocol.send(pack(command)) for command in commands]
        try:
            replies = [await future for future in futures]
        except BaseException:
            for future in futures:  # one failed: the rest failed with it, and nobody reads them
                if future.done() and not future.cancelled():
                    future.exception()
            raise
        for reply in replies:
            if isinstance(reply, ResponseError):
                raise reply
        return replies

    async def _connection(self) -> _Protocol:
        protocol = self._protocol
        if protocol is not None and not protocol.lost:
            return protocol
        async with self._connecting:
            if self._protocol is None or self._protocol.lost:
                self._protocol = await self._connect()
            return self._protocol

    async def _connect(self) -> _Protocol:
        loop = asyncio.get_running_loop()
        options = self._options

        def factory() -> _Protocol:
            return _Protocol(self._timeout)

        try:
            if "path" in options:
                opening = loop.create_unix_connection(factory, options["path"])
            else:
                opening = loop.create_connection(
                    factory,
                    options.get("host", "localhost"),
                    options.get("port", 6379),
                    ssl=self._tls_context(),
                )
            _, protocol = await asyncio.wait_for(opening, self._timeout)
        except (OSError, TimeoutError) as exc:
            raise ConnectionError(f"Could not connect to Redis: {type(exc).__name__}") from exc
        handshake = []
        if options.get("password") is not None:
            user = (options["username"],) if options.get("username") else ()
            handshake.append(("AUTH", *user, options["password"]))
        if options.get("db"):
            handshake.append(("SELECT", options["db"]))
        for command in handshake:
            reply = await protocol.send(pack(command))
            if isinstance(reply, ResponseError):
                protocol._abort(reply)
                raise reply
        return protocol

    def _tls_context(self) -> ssl.SSLContext | None:
        """TLS for a ``rediss://`` URL, with the same query options redis-py reads."""
        if "connection_class" not in self._options or "path" in self._options:
            return None
        context = ssl.create_default_context(cafile=self._options.get("ssl_ca_certs"))
        if self._options.get("ssl_cert_reqs") in ("none", ssl.CERT_NONE):
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context


# A connection belongs to the loop that opened it. uvicorn and gunicorn run one loop per
# process for its whole life; Django's test client runs a fresh loop per request, whose client
# goes away with it (hence the weak mapping).
_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, MultiplexedRedis] = weakref.WeakKeyDictionary()


def for_this_loop(url: str, *, timeout: float = 5.0) -> MultiplexedRedis:
    loop = asyncio.get_running_loop()
    client = _clients.get(loop)
    if client is None or client.url != url:
        client = _clients[loop] = MultiplexedRedis(url, timeout=timeout)
    return client
