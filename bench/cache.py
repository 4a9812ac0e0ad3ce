"""The cache-hit path of a request, against a raw diskcache get and a provider round trip.

Run: .venv-dev/bin/python -m bench.cache [--repeat N]

The provider is the local wire-protocol fake on 127.0.0.1 driven through the official
Anthropic SDK, so its round trip has no network or model time in it: a real provider's is
seconds, which makes the hit path's advantage far larger than this table shows.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import tomllib
from pathlib import Path

import diskcache

from bench.timing import sample, sample_async, table
from tests.e2e.lsp_helpers import FAKE_KEY, fake_reply, user_config
from tests.fakes.wire import FakeProvider
from tierwise.config import Layer, build_config
from tierwise.core.task import Action, Task
from tierwise.engine import Engine
from tierwise.handlers.registry import get_handler

FILE = Path(__file__).resolve().parent.parent / "examples" / "shop" / "db.py"


async def measure(repeat: int, tmp: Path, fake: FakeProvider) -> list[tuple[str, list[float]]]:
    """Time each path; returns the table rows."""
    layer = Layer("bench user config", tomllib.loads(user_config(fake)), trusted=True)
    config, _ = build_config([layer])
    engine = Engine(config, workspace_root=str(FILE.parent))
    source = FILE.read_text(encoding="utf-8")
    line = source.split("\n").index(next(x for x in source.split("\n") if "def search_orders" in x))
    path = str(FILE)

    def task(refresh: bool = False) -> Task:
        return engine.build_task(Action.REVIEW, path, source, line, 4, refresh=refresh)

    first = await engine.run(task())
    assert not first.cache_hit and fake.requests, "the first run must reach the provider"
    await engine.aclose()  # flushes the deferred cache write
    engine = Engine(config, workspace_root=str(FILE.parent))
    hit = await engine.run(task())
    assert hit.cache_hit, "the second run must be a cache hit"
    prepared = task()
    sent = len(fake.requests)

    async def hit_prepared() -> None:
        await engine.run(prepared)

    async def hit_from_source() -> None:
        await engine.run(task())

    async def provider_round_trip() -> None:
        await engine.run(task(refresh=True))

    value = json.dumps({"pad": "x" * 2000})
    raw = diskcache.Cache(str(tmp / "raw"))
    raw.set("key", value)
    # The store evicts least-recently-used, which makes every get also a write: compare both.
    raw_lru = diskcache.Cache(str(tmp / "raw-lru"), eviction_policy="least-recently-used")
    raw_lru.set("key", value)
    store = engine.cache
    assert store is not None
    key = engine.cache_keys(prepared, get_handler(Action.REVIEW), hit.decision)[0]
    rows = [
        ("raw diskcache get, 2 KB JSON (baseline)", sample(lambda: raw.get("key"), repeat)),
        ("raw diskcache get, LRU eviction", sample(lambda: raw_lru.get("key"), repeat)),
        ("ResponseCache.get (LRU, JSON-only, decode)", sample(lambda: store.get(key), repeat)),
        ("cache hit: engine.run, task prepared", await sample_async(hit_prepared, repeat)),
        ("cache hit from source (extract+route+hit)", await sample_async(hit_from_source, repeat)),
    ]
    assert len(fake.requests) == sent, "a cache hit reached the provider"
    rows.append(
        (
            "miss: SDK round trip to local fake (--refresh)",
            await sample_async(provider_round_trip, max(10, repeat // 10)),
        )
    )
    await engine.aclose()
    raw.close()
    raw_lru.close()
    return rows


def main() -> None:
    """Print the cache benchmark table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, FakeProvider() as fake:
        fake.responder = fake_reply
        os.environ.update(
            TIERWISE_DATA_DIR=str(Path(tmp) / "data"),
            TIERWISE_CACHE_DIR=str(Path(tmp) / "cache"),
            ANTHROPIC_API_KEY=FAKE_KEY,
            OPENAI_API_KEY=FAKE_KEY,
        )
        rows = asyncio.run(measure(args.repeat, Path(tmp), fake))
    print(table(f"cache: review of {FILE.name}:search_orders", rows, rows[0][0]))


if __name__ == "__main__":
    main()
