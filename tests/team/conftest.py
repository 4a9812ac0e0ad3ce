"""Fixtures of the shared-cache tests: one real redis-server for the whole run, emptied between
tests with FLUSHALL (the tests' own server: tierwise itself never flushes a database)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.team.redis_server import RedisServer


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def l2(redis_server: RedisServer) -> Iterator[redis.Redis]:
    """A plain synchronous client of the test server, empty at the start of each test."""
    if redis_server.process is None:
        redis_server.start()  # a fault test killed it
    client = redis.Redis.from_url(redis_server.url)
    client.flushall()
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    return tmp_path
