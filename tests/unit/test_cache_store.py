"""The response cache on a real diskcache: round trip, LRU, counters, corruption, no pickle."""

from __future__ import annotations

import json
import os
import pickle
import sqlite3
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tierwise.cache.store import ResponseCache
from tierwise.core.errors import ConfigError

ANSWER = {"result": {"kind": "explain", "markdown": "It adds."}, "model": "x:y", "cost_usd": 0.01}


@pytest.fixture
def cache(tmp_path: Path) -> Iterator[ResponseCache]:
    opened = ResponseCache(tmp_path / "cache")
    yield opened
    opened.close()


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_round_trip_and_miss(cache: ResponseCache) -> None:
    assert cache.get("k1") is None
    cache.set("k1", ANSWER)
    assert cache.get("k1") == ANSWER
    cache.set("k1", {"result": {"kind": "explain", "markdown": "Newer."}})
    assert cache.get("k1") == {"result": {"kind": "explain", "markdown": "Newer."}}


def test_get_first_returns_the_first_hit_in_order(cache: ResponseCache) -> None:
    cache.set("mid", {"tier": "mid"})
    cache.set("frontier", {"tier": "frontier"})
    assert cache.get_first(["budget", "mid", "frontier"]) == ("mid", {"tier": "mid"})
    assert cache.get_first(["budget", "frontier", "mid"]) == ("frontier", {"tier": "frontier"})
    assert cache.get_first(["budget", "local"]) is None
    assert cache.get_first([]) is None


@pytest.mark.parametrize("field", ["source", "code"])
def test_set_refuses_source_code(cache: ResponseCache, field: str) -> None:
    with pytest.raises(ValueError, match=field):
        cache.set("k", {field: "def f(): pass", "result": {}})
    assert cache.get("k") is None


@pytest.mark.parametrize("value", [{"x": float("nan")}, {"x": {1, 2}}, {"x": b"bytes"}])
def test_set_refuses_values_that_are_not_plain_json(cache: ResponseCache, value: dict) -> None:
    with pytest.raises(ValueError, match="JSON"):
        cache.set("k", value)


def test_directory_is_private(tmp_path: Path) -> None:
    fresh = ResponseCache(tmp_path / "a" / "b")
    assert mode_of(tmp_path / "a" / "b") == 0o700
    fresh.close()
    loose = tmp_path / "loose"
    loose.mkdir(mode=0o755)
    os.chmod(loose, 0o755)
    ResponseCache(loose).close()
    assert mode_of(loose) == 0o700


def test_a_file_in_place_of_the_directory_is_a_clear_error(tmp_path: Path) -> None:
    target = tmp_path / "cache"
    target.write_text("not a directory")
    with pytest.raises(ConfigError, match=r"cache\.dir: .* is not a directory"):
        ResponseCache(target)
    assert target.read_text() == "not a directory"  # the user's file is left alone


def test_lru_bound_evicts_old_entries_and_keeps_recently_read_ones(tmp_path: Path) -> None:
    small = ResponseCache(tmp_path / "lru", max_mb=1)
    value = {"result": {"markdown": "x" * 10_000}}
    writes = 300  # about 3 MB of answers into a 1 MB cache
    for i in range(writes):
        small.set(f"k{i}", value)
        if i % 10 == 0:
            assert small.get("k0") == value  # read often: stays recent
    stats = small.stats()
    assert stats.size_bytes <= 1024 * 1024 + 64 * 1024
    assert 0 < stats.entries < writes
    assert small.get("k0") == value
    assert small.get("k1") is None  # written early and never read: evicted
    assert small.get(f"k{writes - 1}") == value  # the newest is kept
    small.close()


def test_counters_survive_a_restart_and_another_process(tmp_path: Path) -> None:
    directory = tmp_path / "cache"
    first = ResponseCache(directory)
    first.set("k", ANSWER)
    first.record_hit(0.25)
    first.record_miss()
    first.close()
    script = (
        "import sys\nfrom pathlib import Path\nfrom tierwise.cache.store import ResponseCache\n"
        "c = ResponseCache(Path(sys.argv[1]))\nc.record_hit(0.5)\nc.record_miss()\n"
        "c.set('other', {'result': 1})\nc.close()\n"
    )
    subprocess.run([sys.executable, "-c", script, str(directory)], check=True, timeout=60)
    reopened = ResponseCache(directory)
    stats = reopened.stats()
    assert (stats.hits, stats.misses, stats.entries) == (2, 2, 2)
    assert stats.saved_usd == pytest.approx(0.75)
    assert stats.directory == directory
    assert reopened.get("k") == ANSWER
    assert reopened.get("other") == {"result": 1}
    reopened.close()


def test_clear_removes_entries_and_resets_counters(cache: ResponseCache) -> None:
    cache.set("a", ANSWER)
    cache.set("b", ANSWER)
    cache.record_hit(1.0)
    cache.record_miss()
    assert cache.clear() == 2
    assert cache.get("a") is None
    stats = cache.stats()
    assert (stats.entries, stats.hits, stats.misses, stats.saved_usd) == (0, 0, 0, 0.0)


def corrupt(directory: Path, data: bytes) -> None:
    for name in ("cache.db-wal", "cache.db-shm"):
        (directory / name).unlink(missing_ok=True)
    (directory / "cache.db").write_bytes(data)


@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_corrupt_database_is_moved_aside_and_rebuilt(tmp_path: Path, damage: str) -> None:
    directory = tmp_path / "cache"
    first = ResponseCache(directory)
    for i in range(200):
        first.set(f"k{i}", {"result": {"markdown": f"answer {i} " * 40}})
    first.close()
    db = directory / "cache.db"
    if damage == "garbage":
        corrupt(directory, os.urandom(16_384))
    else:
        size = db.stat().st_size
        with db.open("r+b") as handle:
            handle.truncate(size // 3)
    reopened = ResponseCache(directory)
    # A truncated file may open and fail only when a lost page is read.
    assert reopened.get("k150") is None
    assert reopened.get("k199") is None
    assert reopened.rebuilt_reason is not None and "corrupt" in reopened.rebuilt_reason
    assert any(p.name.startswith("cache.corrupt-") for p in tmp_path.iterdir())
    reopened.set("new", ANSWER)
    assert reopened.get("new") == ANSWER
    assert mode_of(directory) == 0o700
    reopened.close()


def test_corruption_seen_during_use_rebuilds_and_misses(tmp_path: Path) -> None:
    directory = tmp_path / "cache"
    live = ResponseCache(directory)
    live.set("k", ANSWER)
    assert live.rebuilt_reason is None
    corrupt(directory, os.urandom(8192))
    # A worker thread opens its own connection (as the engine's deferred writes do).
    with ThreadPoolExecutor(max_workers=1) as pool:
        assert pool.submit(live.get, "k").result() is None
        assert live.rebuilt_reason is not None
        pool.submit(live.set, "k2", ANSWER).result()
    assert live.get("k2") == ANSWER
    live.record_hit(0.1)
    assert live.stats().hits == 1
    live.close()


def raw_rows(directory: Path) -> list[tuple[int, object, str | None]]:
    con = sqlite3.connect(directory / "cache.db")
    try:
        return con.execute("SELECT mode, value, filename FROM Cache").fetchall()
    finally:
        con.close()


def test_values_on_disk_are_json_bytes_not_pickles(cache: ResponseCache) -> None:
    cache.set("small", ANSWER)
    cache.set("large", {"result": {"markdown": "y" * 100_000}})  # large values go to files
    cache.close()
    rows = raw_rows(cache.directory)
    assert len(rows) == 2
    for mode, value, filename in rows:
        if filename is None:
            assert isinstance(value, bytes)
            data = value
        else:
            data = (cache.directory / filename).read_bytes()
        assert not data.startswith(b"\x80")  # pickle protocol 2+ header
        assert isinstance(json.loads(data), dict)
        assert mode in (1, 2)  # diskcache MODE_RAW / MODE_BINARY, never MODE_PICKLE (4)


class Plant:
    """Unpickling this creates the marker file: proof that something was unpickled."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return (open, (str(self.marker), "w"))


@pytest.mark.parametrize("where", ["pickle in db", "pickle in file", "raw bytes"])
def test_planted_pickle_is_never_unpickled(tmp_path: Path, where: str) -> None:
    directory = tmp_path / "cache"
    ResponseCache(directory).close()
    marker = tmp_path / "pwned"
    payload = pickle.dumps(Plant(marker))
    # diskcache modes: 1 raw, 2 binary file, 4 pickle.
    mode, value, filename = {
        "pickle in db": (4, payload, None),
        "pickle in file": (4, None, "ab/cd/planted.val"),
        "raw bytes": (1, payload, None),
    }[where]
    if filename:
        (directory / "ab" / "cd").mkdir(parents=True)
        (directory / filename).write_bytes(payload)
    con = sqlite3.connect(directory / "cache.db")
    now = time.time()
    con.execute(
        "INSERT INTO Cache (key, raw, store_time, expire_time, access_time, access_count, tag,"
        " size, mode, filename, value) VALUES ('planted', 1, ?, NULL, ?, 0, NULL, 0, ?, ?, ?)",
        (now, now, mode, filename, value),
    )
    con.commit()
    con.close()
    reopened = ResponseCache(directory)
    assert reopened.get("planted") is None
    assert reopened.get_first(["planted"]) is None
    assert not marker.exists()
    assert reopened.rebuilt_reason is None  # a bad entry is dropped, the cache is kept
    reopened.set("ok", ANSWER)
    assert reopened.get("ok") == ANSWER
    reopened.close()
    assert not any(key == "planted" for key in _keys(directory))


def _keys(directory: Path) -> list[str]:
    con = sqlite3.connect(directory / "cache.db")
    try:
        return [row[0] for row in con.execute("SELECT key FROM Cache")]
    finally:
        con.close()


def test_a_stored_json_value_that_is_not_an_object_is_a_miss(cache: ResponseCache) -> None:
    cache.close()
    con = sqlite3.connect(cache.directory / "cache.db")
    now = time.time()
    con.execute(
        "INSERT INTO Cache (key, raw, store_time, expire_time, access_time, access_count, tag,"
        " size, mode, filename, value) VALUES ('list', 1, ?, NULL, ?, 0, NULL, 0, 1, NULL, ?)",
        (now, now, b"[1, 2]"),
    )
    con.commit()
    con.close()
    reopened = ResponseCache(cache.directory)
    assert reopened.get("list") is None
    reopened.close()
