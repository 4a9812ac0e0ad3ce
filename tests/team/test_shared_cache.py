"""Two developers, two L1 directories, one real Redis: what the team's shared cache promises.

Each developer is an Engine with its own user config, cache directory and ledger; the provider
is the wire fake, so every paid call is counted where it would cost money."""

from __future__ import annotations

import json
import os
import pickle
import sqlite3
import subprocess
import sys
from pathlib import Path

import redis

from tests.fakes.wire import FakeProvider
from tests.team.developers import (
    SECRET,
    SOURCE,
    ask,
    developer,
    lookup_keys,
    model_calls,
)
from tests.team.redis_server import RedisServer
from tierwise.cache.shared import SharedCache
from tierwise.core.results import result_to_dict
from tierwise.engine import Event

# ruff format --line-length 40 of SOURCE's total_weight, with a comment: the same code.
FORMATTED = SOURCE.replace(
    "def total_weight(items, factor=2):\n",
    "def total_weight(\n    items,\n    factor=2,\n):  # weigh the heavy ones\n",
).replace(
    'return json.dumps({"total": total})', 'return json.dumps(\n        {"total": total}\n    )'
)
# One character of meaning: the threshold is another number.
NEAR_MISS = SOURCE.replace("if item.kg > 10:", "if item.kg > 11:")


def _shared_rows(home: Path) -> list[tuple[int, int]]:
    with sqlite3.connect(home / "ledger.sqlite3") as con:
        return con.execute("SELECT cache_hit, shared FROM requests ORDER BY id").fetchall()


def test_a_teammates_answer_serves_with_no_provider_call(
    tmp_path: Path, fake: FakeProvider, l2: redis.Redis, redis_server: RedisServer
) -> None:
    alice = developer(tmp_path / "alice", fake, redis_server.url)
    bob = developer(tmp_path / "bob", fake, redis_server.url)
    before = model_calls(fake)
    first = ask(alice)
    assert not first.cache_hit and model_calls(fake) == before + 1
    events: list[Event] = []
    second = ask(bob, events=events)
    assert model_calls(fake) == before + 1  # Bob's answer cost nothing
    assert second.cache_hit and second.result == first.result and second.model == first.model
    assert any(e.kind == "cached" and "shared cache" in e.message for e in events)
    assert _shared_rows(tmp_path / "bob") == [(1, 1)]  # cache_hit with shared = true
    assert _shared_rows(tmp_path / "alice") == [(0, 0)]
    # The hit filled Bob's L1: with the server gone, his machine still has the answer.
    redis_server.stop()
    try:
        assert ask(bob).cache_hit and model_calls(fake) == before + 1
    finally:
        redis_server.start()
    stats = bob.cache.stats() if bob.cache is not None else None
    assert stats is not None and stats.hits == 2 and stats.shared["shared_hits"] == 1


def test_keys_depend_on_neither_paths_nor_users(
    tmp_path: Path, fake: FakeProvider, l2: redis.Redis, redis_server: RedisServer
) -> None:
    """The same code under two home directories, repositories and login names: one key."""
    url = redis_server.url
    alice = developer(tmp_path / "home" / "alice", fake, url, workspace=tmp_path / "a")
    bob = developer(tmp_path / "srv" / "bob", fake, url, workspace=tmp_path / "b" / "c")
    assert lookup_keys(alice) == lookup_keys(bob)
    assert lookup_keys(alice)[0].startswith("tierwise:v3:team-a:docstring:")


def test_a_formatting_only_variant_hits_and_a_near_miss_does_not(
    tmp_path: Path, fake: FakeProvider, l2: redis.Redis, redis_server: RedisServer
) -> None:
    alice = developer(tmp_path / "alice", fake, redis_server.url)
    bob = developer(tmp_path / "bob", fake, redis_server.url)
    carol = developer(tmp_path / "carol", fake, redis_server.url)
    ask(alice)
    before = model_calls(fake)
    assert ask(bob, source=FORMATTED).cache_hit and model_calls(fake) == before
    near = ask(carol, source=NEAR_MISS)
    assert not near.cache_hit and model_calls(fake) == before + 1


def test_team_namespaces_never_see_each_others_entries(
    tmp_path: Path, fake: FakeProvider, l2: redis.Redis, redis_server: RedisServer
) -> None:
    a = developer(tmp_path / "a", fake, redis_server.url, team="team-a")
    b = developer(tmp_path / "b", fake, redis_server.url, team="team-b")
    ask(a)
    a_keys = {k.decode() for k in l2.scan_iter()}
    before = model_calls(fake)
    assert not ask(b).cache_hit and model_calls(fake) == before + 1
    b_keys = {k.decode() for k in l2.scan_iter()} - a_keys
    assert a_keys and b_keys
    assert all(k.startswith("tierwise:v3:team-a:") for k in a_keys)
    assert all(k.startswith("tierwise:v3:team-b:") for k in b_keys)
    # Team A's signed answer copied under team B's key (same secret) is still refused: the MAC
    # covers the key, namespace included.
    (a_answer,) = [k for k in a_keys if ":docstring:" in k]
    (b_answer,) = [k for k in b_keys if ":docstring:" in k]
    l2.set(b_answer, l2.get(a_answer) or b"")
    other = developer(tmp_path / "b2", fake, redis_server.url, team="team-b")
    assert not ask(other).cache_hit and model_calls(fake) == before + 2
    assert other.cache is not None and other.cache.stats().shared["shared_mac_failures"] == 1


def _poisoned(l2: redis.Redis, key: str, secret: bytes) -> bytes:
    """The honest entry at `key`, its docstring replaced, signed with `secret`."""
    honest = SharedCache("redis://unused", "team-a", SECRET.encode(), ttl_s=60, timeout_s=1,
                         max_entry_bytes=65536, lock_ms=1000)  # fmt: skip
    entry = honest.decode(key, l2.get(key))
    assert entry is not None
    text = json.dumps(entry).replace("Total", "POISON").replace("total", "POISON")
    assert "POISON" in text
    signer = SharedCache("redis://unused", "team-a", secret, ttl_s=60, timeout_s=1,
                         max_entry_bytes=65536, lock_ms=1000)  # fmt: skip
    data = signer.encode(key, json.loads(text))
    assert data is not None
    return data


def test_a_value_planted_with_the_wrong_mac_is_refused(
    tmp_path: Path, fake: FakeProvider, l2: redis.Redis, redis_server: RedisServer
) -> None:
    alice = developer(tmp_path / "alice", fake, redis_server.url)
    ask(alice)
    (key,) = [k.decode() for k in l2.scan_iter(match="*:docstring:*")]
    l2.set(key, _poisoned(l2, key, b"mallory's own secret, not the team's"))
    bob = developer(tmp_path / "bob", fake, redis_server.url)
    before = model_calls(fake)
    events: list[Event] = []
    outcome = ask(bob, events=events)
    assert not outcome.cache_hit and model_calls(fake) == before + 1
    assert "POISON" not in json.dumps(result_to_dict(outcome.result))
    assert sum("MAC did not match" in e.message for e in events if e.kind == "warning") == 1
    assert bob.cache is not None and bob.cache.stats().shared["shared_mac_failures"] == 1
    # A tampered body under the right MAC fails the same way.
    envelope = json.loads(l2.get(key) or b"{}")
    tampered = envelope["body"].replace('"cost_usd":', '"cost_usd":1', 1)
    assert tampered != envelope["body"]
    l2.set(key, json.dumps({**envelope, "body": tampered}))
    carol = developer(tmp_path / "carol", fake, redis_server.url)
    assert not ask(carol).cache_hit and model_calls(fake) == before + 2


def test_a_value_planted_as_a_pickle_is_refused(
    tmp_path: Path, fake: FakeProvider, l2: redis.Redis, redis_server: RedisServer
) -> None:
    alice = developer(tmp_path / "alice", fake, redis_server.url)
    ask(alice)
    (key,) = [k.decode() for k in l2.scan_iter(match="*:docstring:*")]

    class Boom:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            return (os.system, ("touch " + str(tmp_path / "pwned"),))

    l2.set(key, pickle.dumps({"result": Boom(), "model": "anthropic:claude-haiku-4-5"}))
    bob = developer(tmp_path / "bob", fake, redis_server.url)
    before = model_calls(fake)
    assert not ask(bob).cache_hit and model_calls(fake) == before + 1
    assert not (tmp_path / "pwned").exists()
    assert bob.cache is not None and bob.cache.stats().shared["shared_invalid"] == 1


def test_every_key_has_a_ttl(
    tmp_path: Path, fake: FakeProvider, l2: redis.Redis, redis_server: RedisServer
) -> None:
    alice = developer(tmp_path / "alice", fake, redis_server.url, cache_extra="ttl_days = 2\n")
    bob = developer(tmp_path / "bob", fake, redis_server.url, cache_extra="ttl_days = 2\n")
    ask(alice)
    ask(bob)
    ask(alice, "review")
    ask(bob, "explain", needle="return json.dumps")
    keys = list(l2.scan_iter())
    kinds = {k.decode().split(":")[3] for k in keys}
    assert {"docstring", "review", "explain", "spend"} <= kinds
    for key in keys:
        ttl = l2.ttl(key)
        assert 0 < ttl <= 2 * 86400, (key, ttl)


def _cli(*args: str, config: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tierwise", *args, "--config", str(config)],
        capture_output=True,
        text=True,
        input=stdin,
        env=os.environ.copy(),
        timeout=60,
    )


def test_clear_shared_removes_our_prefix_and_nothing_else(
    tmp_path: Path, fake: FakeProvider, l2: redis.Redis, redis_server: RedisServer
) -> None:
    alice = developer(tmp_path / "alice", fake, redis_server.url)
    ask(alice)
    ask(alice, "review")
    foreign = {
        b"session:42": b"someone else's app",
        b"tierwise:v3:team-b:docstring:" + b"0" * 64: b"team b's",
        b"tierwise:v2:team-a:docstring:" + b"1" * 64: b"an older version's",
        b"tierwise:v3:team-ab:review:" + b"2" * 64: b"a team whose name starts like ours",
        b"TIERWISE:V3:TEAM-A:x": b"upper case",
    }
    for key, value in foreign.items():
        l2.set(key, value)
    l2.hset(b"queue:jobs", "a", "1")
    ours = [k for k in l2.scan_iter(match="tierwise:v3:team-a:*")]
    assert len(ours) >= 3  # two answers and the spend counters
    config = tmp_path / "alice" / "config.toml"
    refused = _cli("cache", "clear", "--shared", config=config, stdin="")
    assert refused.returncode == 2 and "--yes" in refused.stderr  # no terminal: no silent yes
    assert len(list(l2.scan_iter(match="tierwise:v3:team-a:*"))) == len(ours)
    done = _cli("cache", "clear", "--shared", "--yes", "--json", config=config)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"removed": len(ours), "team": "team-a"}
    assert list(l2.scan_iter(match="tierwise:v3:team-a:*")) == []
    for key, value in foreign.items():
        assert l2.get(key) == value
    assert l2.hgetall(b"queue:jobs") == {b"a": b"1"}
    assert l2.dbsize() == len(foreign) + 1
