"""A cache hit's engine path in one process, without the LSP round trip: build the task, route
it, look it up and rebuild the answer with its ledger row (what `tierwise.run` does between
reading the request and writing the reply), on a 50-line and a 2,038-line file, against a raw
diskcache get in the same run.

Run: .venv-dev/bin/python -m bench.hit_path [--repeat N]

Each row is one `engine.run` of a task whose answer is cached (the provider, the local wire
fake, is called once first). "escalation off" is `escalate_window_s = 0`, as bench.lsp's
table runs; "window 900 s" is the default, where every hit also reads its target's earlier
asks, one more each hit. In one process the scheduler of a shared machine moves these less than
a stdio round trip; bench.lsp gives the figure an editor sees. Each hit's CPU time on the
event loop's thread (`time.thread_time`: the writes deferred to a worker thread are not in it)
is printed too: on a busy machine it moves much less than the wall time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
from pathlib import Path

import diskcache

from bench import realfiles
from bench.timing import table
from tests.e2e.lsp_helpers import FAKE_KEY, fake_reply, user_config
from tests.fakes.wire import FakeProvider
from tierwise.config import load_config
from tierwise.engine import Engine


async def hits(
    fake: FakeProvider, file: realfiles.RealFile, home: Path, window_s: float, repeat: int
) -> tuple[list[float], list[float]]:
    """Wall and thread CPU seconds per cache hit of a review at the file's target (after the
    answer is cached)."""
    config_path = home / "config.toml"
    config_path.write_text(
        user_config(fake, f"\n[routing]\nescalate_window_s = {window_s:g}\n"), encoding="utf-8"
    )
    config, _ = load_config(config_path=config_path, workspace_root=file.path.parent)
    engine = Engine(config, workspace_root=str(file.path.parent))
    path, text, line = str(file.path), file.text, file.line

    async def once() -> bool:
        task = engine.build_task("review", path, text, line, 8)
        return (await engine.run(task, prepared=engine.prepare(task))).cache_hit

    for _ in range(6):  # a miss first; with escalation on, repeats climb to the frontier's hit
        if await once():
            break
        await engine.stores.drain()
    walls, cpus = [], []
    for _ in range(repeat + 5):
        started, cpu = time.perf_counter(), time.thread_time()
        hit = await once()
        walls.append(time.perf_counter() - started)
        cpus.append(time.thread_time() - cpu)
        assert hit, "not a cache hit"
        await asyncio.sleep(0)  # the deferred writes run between requests, as in the server
    await engine.aclose()
    return walls[5:], cpus[5:]


def raw_get(home: Path, repeat: int) -> list[float]:
    """A raw diskcache get of a 2 KB value (the floor)."""
    raw = diskcache.Cache(str(home / "raw"))
    raw.set("key", json.dumps({"pad": "x" * 2000}))
    out = []
    for _ in range(repeat):
        started = time.perf_counter()
        raw.get("key")
        out.append(time.perf_counter() - started)
    raw.close()
    return out


def main(argv: list[str] | None = None) -> None:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=500)
    args = parser.parse_args(argv)
    rows, cpu_rows = [], []
    with tempfile.TemporaryDirectory() as tmp, FakeProvider() as fake:
        fake.responder = fake_reply
        os.environ["ANTHROPIC_API_KEY"] = os.environ["OPENAI_API_KEY"] = FAKE_KEY
        floor = raw_get(Path(tmp), args.repeat)
        rows.append(("raw diskcache get (floor)", floor))
        for file in (realfiles.small(), realfiles.large()):
            for window in (0.0, 900.0):
                home = Path(tmp) / f"{file.lines}-{window:g}"
                home.mkdir()
                os.environ["TIERWISE_DATA_DIR"] = str(home / "data")
                os.environ["TIERWISE_CACHE_DIR"] = str(home / "cache")
                state = "escalation off" if window == 0 else f"window {window:g} s"
                walls, cpus = asyncio.run(hits(fake, file, home, window, args.repeat))
                rows.append((f"cache hit, engine path ({file.label}, {state})", walls))
                cpu_rows.append((f"the same, thread CPU ({file.label}, {state})", cpus))
    print(table("A cache hit's engine path, in process (wall)", rows, rows[0][0]))
    print()
    cpu_rows.insert(0, rows[0])
    print(table("The same, CPU of the thread", cpu_rows, rows[0][0]))


if __name__ == "__main__":
    main()
