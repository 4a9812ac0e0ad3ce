"""A cache hit reads its entry without the LRU update (a write transaction, and at times a WAL
checkpoint of milliseconds) and marks it used afterwards, off the reply's path: the eviction
order is the one a get gives, once the deferred touch has run."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

import pytest

from tests.e2e.lsp_helpers import FAKE_KEY, fake_reply, user_config
from tests.fakes.wire import FakeProvider
from tierwise.cache.store import ResponseCache
from tierwise.config import load_config
from tierwise.engine import Engine

VALUE = {"result": {"markdown": "x" * 10_000}}
SOURCE = "def pay(amount, rate):\n    total = amount * rate\n    return total\n"


def access_times(directory: Path) -> dict[str, float]:
    con = sqlite3.connect(directory / "cache.db")
    try:
        return {str(k): float(t) for k, t in con.execute("SELECT key, access_time FROM Cache")}
    finally:
        con.close()


def test_a_peek_leaves_the_order_and_a_touch_marks_the_entry_used(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path / "c", max_mb=1, touch_every_s=0)
    cache.touch("missing")  # nothing there: nothing is written, the read handle is opened
    cache.set("a", VALUE)
    time.sleep(0.01)
    cache.set("b", VALUE)
    assert cache.get_first(["x", "a"], touch=False) == ("a", VALUE)
    times = access_times(tmp_path / "c")
    assert times["a"] < times["b"]  # read, but not yet marked used
    cache.touch("a")
    times = access_times(tmp_path / "c")
    assert times["a"] > times["b"]
    cache.close()


def test_entries_read_by_peek_and_touch_survive_eviction(tmp_path: Path) -> None:
    """test_cache_store's LRU test, with every read a peek and a touch (as a hit does)."""
    small = ResponseCache(tmp_path / "lru", max_mb=1, touch_every_s=0)
    writes = 300  # about 3 MB of answers into a 1 MB cache
    for i in range(writes):
        small.set(f"k{i}", VALUE)
        if i % 10 == 0:
            assert small.get("k0", touch=False) == VALUE
            small.touch("k0")
    assert small.get("k0", touch=False) == VALUE
    assert small.get("k1", touch=False) is None  # written early and never read: evicted
    assert small.get(f"k{writes - 1}", touch=False) == VALUE
    small.close()


def test_a_hit_through_the_engine_marks_its_entry_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TIERWISE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("TIERWISE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("ANTHROPIC_API_KEY", FAKE_KEY)
    monkeypatch.setenv("OPENAI_API_KEY", FAKE_KEY)
    with FakeProvider() as fake:
        fake.responder = fake_reply
        path = tmp_path / "config.toml"
        path.write_text(user_config(fake, "\n[routing]\nescalate_window_s = 0\n"), "utf-8")
        config, _ = load_config(config_path=path, workspace_root=tmp_path)

        async def go() -> tuple[bool, bool]:
            engine = Engine(config, workspace_root=str(tmp_path))
            first = await engine.run(engine.build_task("explain", "m.py", SOURCE, 1, 4))
            await engine.stores.drain()  # its answer is stored
            assert engine.cache is not None
            engine.cache.touch("another")  # the read handle open, as after an earlier hit
            engine.cache.set("later", VALUE)  # stored after the answer: newer, until the hit
            second = await engine.run(engine.build_task("explain", "m.py", SOURCE, 1, 4))
            await engine.aclose()
            return first.cache_hit, second.cache_hit

        assert asyncio.run(go()) == (False, True)
    times = access_times(tmp_path / "cache")
    answer = next(key for key in times if key != "later")
    assert times[answer] > times["later"]


def test_an_entry_is_touched_at_most_once_a_period(tmp_path: Path) -> None:
    """Each touch is a write (every read after it starts cold): within `touch_every_s` of the
    last one by this process, a hit leaves the order as it is; after it, it marks it again."""
    cache = ResponseCache(tmp_path / "c", max_mb=1, touch_every_s=0.3)
    cache.set("a", VALUE)
    cache.set("b", VALUE)
    cache.touch("a")
    first = access_times(tmp_path / "c")["a"]
    assert first > access_times(tmp_path / "c")["b"]
    cache.touch("a")
    assert access_times(tmp_path / "c")["a"] == first
    time.sleep(0.35)
    cache.touch("a")
    assert access_times(tmp_path / "c")["a"] > first
    cache.close()
