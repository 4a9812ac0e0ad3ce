"""Faults of the shared cache: the server killed mid-run, blocked by DEBUG SLEEP or CLIENT PAUSE.

Requests still answer, within the bound (one operation's deadline, ~50 ms, then L2 is left
alone for a while: never the length of the outage), with one warning per outage; when the
server is back, L2 is used again. The bounds asserted here are hang bounds, many times the
deadline and well under the length of each fault; the latencies are measured in
bench/shared_cache.py."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from pathlib import Path

import pytest
import redis

from tests.fakes.wire import FakeProvider
from tests.team.developers import SOURCE, ask, ask_async, developer, model_calls, run
from tests.team.redis_server import RedisServer
from tierwise.cache import shared_values
from tierwise.engine import Event

BLOCK_S = 6  # how long each fault blocks the server
HANG_BOUND_S = 3.0  # a request that waited for the server would take BLOCK_S


def _warnings(events: list[Event]) -> list[str]:
    return [e.message for e in events if e.kind == "warning" and "shared cache" in e.message]


def _variant(n: int) -> dict[str, str]:
    """Another function in another file each time: a fresh miss in L1 and L2, and never a
    repeat (a repeat would escalate to another tier, and so to other keys)."""
    return {
        "source": SOURCE.replace("if item.kg > 10:", f"if item.kg > {100 + n}:"),
        "path": f"/work/project/weights_{n}.py",
    }


def _raw(port: int, command: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=BLOCK_S + 5) as sock:
        sock.sendall(command)
        return sock.recv(64)


@pytest.fixture
def restore(redis_server: RedisServer) -> object:
    yield None
    if redis_server.process is None:
        redis_server.start()


def test_killed_server_requests_answer_with_one_warning_then_l2_comes_back(
    tmp_path: Path,
    fake: FakeProvider,
    l2: redis.Redis,
    redis_server: RedisServer,
    restore: object,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(shared_values, "RETRY_AFTER_S", 0.5)  # the test need not wait 2 s
    alice = developer(tmp_path / "alice", fake, redis_server.url, timeout_ms=50)
    bob = developer(tmp_path / "bob", fake, redis_server.url, timeout_ms=50)
    ask(alice, **_variant(0))
    redis_server.stop()  # a crash mid-run: the engine's connections die with it
    events: list[Event] = []

    async def during() -> list[float]:
        took = []
        for n in range(4):
            started = time.monotonic()
            outcome = await ask_async(bob, **_variant(n), events=events)
            took.append(time.monotonic() - started)
            assert outcome.result is not None
        return took

    before = model_calls(fake)
    took = run(during(), bob)
    assert model_calls(fake) == before + 4  # answered by the models, L2 being gone
    assert max(took) < HANG_BOUND_S
    assert len(_warnings(events)) == 1, _warnings(events)  # one per outage, not per request
    redis_server.start()
    time.sleep(0.6)  # past the retry pause
    later: list[Event] = []
    fresh = ask(bob, **_variant(9), events=later)
    assert not fresh.cache_hit and not _warnings(later)
    carol = developer(tmp_path / "carol", fake, redis_server.url, timeout_ms=50)
    calls = model_calls(fake)
    assert ask(carol, **_variant(9)).cache_hit and model_calls(fake) == calls  # L2 again


@pytest.mark.parametrize(
    "fault",
    [f"DEBUG SLEEP {BLOCK_S}".encode(), f"CLIENT PAUSE {BLOCK_S * 1000} ALL".encode()],
    ids=["debug-sleep", "client-pause"],
)
def test_a_blocked_server_never_blocks_a_request(
    tmp_path: Path,
    fake: FakeProvider,
    l2: redis.Redis,
    redis_server: RedisServer,
    fault: bytes,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(shared_values, "RETRY_AFTER_S", 0.5)
    alice = developer(tmp_path / "alice", fake, redis_server.url, timeout_ms=50)
    ask(alice, **_variant(0))
    bob = developer(tmp_path / "bob", fake, redis_server.url, timeout_ms=50)
    ask(bob, **_variant(1))  # Bob's connection is open before the fault
    blocker = threading.Thread(target=_raw, args=(redis_server.port, fault + b"\r\n"))
    blocked_at = time.monotonic()
    blocker.start()
    time.sleep(0.2)  # the server has started blocking
    events: list[Event] = []

    async def during() -> list[float]:
        took = []
        for n in range(2, 5):
            started = time.monotonic()
            await ask_async(bob, **_variant(n), events=events)
            took.append(time.monotonic() - started)
            await asyncio.sleep(0.6)  # past the retry pause: each request tries L2 again
        return took

    took = run(during(), bob)
    still_blocked = time.monotonic() - blocked_at < BLOCK_S
    assert still_blocked, "the fault ended before the requests did: raise BLOCK_S"
    assert max(took) < HANG_BOUND_S, took
    assert len(_warnings(events)) == 1, _warnings(events)
    blocker.join(timeout=BLOCK_S + 10)  # DEBUG SLEEP answers at its end, CLIENT PAUSE at once
    time.sleep(max(0.0, blocked_at + BLOCK_S - time.monotonic()) + 0.6)
    calls = model_calls(fake)
    after: list[Event] = []
    back = ask(bob, **_variant(0), events=after)
    assert back.cache_hit and model_calls(fake) == calls  # Alice's, via L2
