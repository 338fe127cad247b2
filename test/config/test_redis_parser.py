"""Every redis-py client the project runs reads replies with hiredis's C parser.

redis-py chooses its parser at import and, when hiredis is missing or of a version it no
longer accepts, falls back to its pure-Python one without a word. Each Redis round trip of a
submit, a job and a websocket push would then cost about 20 µs more CPU (the Django cache's
throttle and result look-ups, Celery's broker messages, the channel layer's pushes).
"""

from __future__ import annotations

import asyncio

import pytest
import redis.asyncio
from django.conf import settings
from django.core.cache import cache
from redis._parsers.hiredis import _AsyncHiredisParser, _HiredisParser
from redis.utils import HIREDIS_AVAILABLE

from config.celery_app import app


def test_redis_py_found_a_hiredis_it_accepts():
    assert HIREDIS_AVAILABLE


def test_the_django_cache_parses_with_hiredis():
    connection = cache.client.get_client(write=True).connection_pool.get_connection()

    assert isinstance(connection._parser, _HiredisParser)


def test_a_redis_broker_connection_parses_with_hiredis():
    with app.connection_for_write() as broker:
        if broker.transport.driver_type != "redis":
            pytest.skip("the broker of these settings is not Redis")
        connection = broker.default_channel.client.connection_pool.get_connection()

    assert isinstance(connection._parser, _HiredisParser)


def test_asyncio_clients_parse_with_hiredis():
    async def parser() -> type:
        client = redis.asyncio.Redis.from_url(settings.REDIS_URL)
        try:
            connection = await client.connection_pool.get_connection()
            await client.connection_pool.release(connection)
            return type(connection._parser)
        finally:
            await client.aclose()

    assert asyncio.run(parser()) is _AsyncHiredisParser
