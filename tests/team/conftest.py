"""Fixtures of the shared-cache tests: one real redis-server for the whole run, emptied between
tests with FLUSHALL (the tests' own server: tierwise itself never flushes a database)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.e2e.lsp_helpers import FAKE_KEY, fake_reply
from tests.fakes.wire import FakeProvider
from tests.team.developers import SECRET, SECRET_ENV
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


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeProvider]:
    """The provider fake every developer's cloud tiers point at."""
    with FakeProvider() as server:
        server.responder = fake_reply
        yield server


@pytest.fixture(autouse=True)
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Keys for the fake, the team secret, and data directories inside the test's tmp."""
    monkeypatch.setenv("ANTHROPIC_API_KEY", FAKE_KEY)
    monkeypatch.setenv("OPENAI_API_KEY", FAKE_KEY)
    monkeypatch.setenv(SECRET_ENV, SECRET)
    monkeypatch.setenv("TIERWISE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("TIERWISE_CACHE_DIR", str(tmp_path / "default-cache"))
