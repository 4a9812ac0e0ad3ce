"""Faults of the shared cache: the server killed mid-run, blocked by DEBUG SLEEP or CLIENT PAUSE.

Requests still answer, within the bound (one operation's deadline, ~50 ms, then L2 is left
alone for a while: never the length of the outage), with one warning per outage; when the
server is back, L2 is used again. The bounds asserted here are hang bounds, many times the
deadline and well under the length of each fault; the latencies are measured in
bench/team.py."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import redis

from tests.fakes.wire import FakeProvider
from tests.team.developers import SOURCE, ask, ask_async, developer, model_calls, run
from tests.team.redis_server import RedisServer
from tierwise.cache import shared_values
from tierwise.engine import Engine, Event

HANG_BOUND_S = 3.0  # a generous bound per request; one that waited for the server takes BLOCK_S
# How long each fault blocks the server: longer than three requests at the hang bound plus the
# pauses between them, so "still blocked when they were done" follows from the bound itself and
# a slow, loaded machine cannot make the fault end first.
BLOCK_S = 12


def _warnings(events: list[Event]) -> list[str]:
    return [e.message for e in events if e.kind == "warning" and "shared cache" in e.message]


def _variant(n: int) -> dict[str, str]:
    """Another function in another file each time: a fresh miss in L1 and L2, and never a
    repeat (a repeat would escalate to another tier, and so to other keys)."""
    return {
        "source": SOURCE.replace("if item.kg > 10:", f"if item.kg > {100 + n}:"),
        "path": f"/work/project/weights_{n}.py",
    }


def _until(condition: Callable[[], bool], what: str, bound_s: float = 30.0) -> None:
    """Wait for a state of the server (not for a length of time), within a hang bound."""
    deadline = time.monotonic() + bound_s
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def _back_in_l2(tmp_path: Path, fake: FakeProvider, url: str, writer: Engine, first: int) -> None:
    """L2 is used again after a fault: `writer`'s next answer reaches L2 and serves a teammate
    without a provider call. Tried a few times: the first operation after the server returns
    may still fail on a loaded machine, and the retry pause must pass before the next try."""
    for attempt in range(5):
        later: list[Event] = []
        ask(writer, **_variant(first + attempt), events=later)
        assert not _warnings(later), _warnings(later)  # the server is back: nothing to warn of
        reader = developer(tmp_path / f"reader{attempt}", fake, url, timeout_ms=50)
        calls = model_calls(fake)
        if ask(reader, **_variant(first + attempt)).cache_hit:
            assert model_calls(fake) == calls  # served from L2
            return
        time.sleep(0.6)  # past the retry pause
    pytest.fail("L2 was not used again after the fault")


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
    _back_in_l2(tmp_path, fake, redis_server.url, bob, 10)


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
    _until(lambda: not redis_server.ping(), "the server never started blocking")
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
    _until(redis_server.ping, "the server did not answer again after the fault")
    time.sleep(0.6)  # past the retry pause
    _back_in_l2(tmp_path, fake, redis_server.url, bob, 10)
