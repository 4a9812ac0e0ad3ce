"""The team's shared cache (L2): its hit path against a raw GET and an L1 hit, and a team of
developers replaying overlapping work with and without it.

Run: .venv-dev/bin/python -m bench.team [--repeat N] [--developers N] [--requests N]

A real redis-server (Debian's, `bash scripts/redis.sh`) on a random port of 127.0.0.1 with
`--save '' --appendonly no`, started and killed by this script. Providers are the local
wire-protocol fake driven through the official SDKs, with the catalogue's real prices, so the
dollars are what those tokens would cost; a real provider's round trip is seconds, which the
fake's is not.

The team simulation: each developer has their own L1 directory and ledger; they take turns
(round-robin, one request each), drawing targets from every definition of examples/shop and
tests/data/large_module.py with Zipf-like popularity (a team works on the same hot files) and
an action from docstring, explain and review. The same seeded draw is replayed twice: every
developer with L1 only, then with L1 and one shared L2.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import sqlite3
import tempfile
import time
from collections import Counter
from pathlib import Path

import redis.asyncio as aioredis

from bench.timing import table
from tests.e2e.lsp_helpers import FAKE_KEY, fake_reply
from tests.fakes.wire import FakeProvider
from tests.team.developers import SECRET, SECRET_ENV, SOURCE, developer, model_calls
from tests.team.redis_server import RedisServer
from tierwise.cache import shared_values
from tierwise.context.extract import extract_all
from tierwise.engine import Engine, Event
from tierwise.handlers.registry import get_handler

ROOT = Path(__file__).resolve().parent.parent
FILES = [*sorted((ROOT / "examples" / "shop").glob("*.py")), ROOT / "tests/data/large_module.py"]
ACTIONS = (("docstring", 0.4), ("explain", 0.3), ("review", 0.3))


def targets() -> list[tuple[Path, str, int]]:
    """Every function of the workload's files: (file, source, 0-based line of its def)."""
    out = []
    for path in FILES:
        source = path.read_text(encoding="utf-8")
        for context in extract_all(str(path), source):
            out.append((path, source, context.target.span.start_line))
    return out


def workload(developers: int, per_developer: int, seed: int) -> list[list[tuple[int, str]]]:
    """Each developer's requests: distinct (target index, action) pairs, drawn Zipf-like over
    the targets, seeded. Distinct because asking the same thing again means the first answer
    was not good enough: tierwise escalates a repeat to the next tier (docs/routing.md)."""
    pool = targets()
    rng = random.Random(seed)
    order = list(range(len(pool)))
    rng.shuffle(order)  # popularity is not file order
    popularity = {target: 1 / (rank + 1) for rank, target in enumerate(order)}
    pairs = [
        (target, action, popularity[target] * share)
        for target in order
        for action, share in ACTIONS
    ]
    plan = []
    for _ in range(developers):
        left = list(pairs)
        mine: list[tuple[int, str]] = []
        while left and len(mine) < per_developer:
            pick = rng.choices(range(len(left)), [w for _, _, w in left])[0]
            target, action, _ = left.pop(pick)
            mine.append((target, action))
        plan.append(mine)
    return plan


async def replay(
    home: Path, fake: FakeProvider, url: str | None, plan: list[list[tuple[int, str]]]
) -> dict[str, float]:
    """Run the plan round-robin; provider calls, dollars and hits per level."""
    pool = targets()
    # One checkout for all: keys hold no path (tests/team proves it), so a checkout per
    # developer would change nothing here.
    engines = [developer(home / f"dev{i:02d}", fake, url, workspace=ROOT) for i in range(len(plan))]
    calls_before = model_calls(fake)
    outcomes = Counter[str]()
    for turn in range(max(len(p) for p in plan)):
        for engine, requests in zip(engines, plan, strict=True):
            if turn >= len(requests):
                continue
            index, action = requests[turn]
            path, source, line = pool[index]
            task = engine.build_task(action, str(path), source, line, 4)
            outcome = await engine.run(task)
            await engine.stores.drain()  # the answer is shared before the next turn
            outcomes["requests"] += 1
            outcomes["static"] += outcome.model is None
    for engine in engines:
        await engine.aclose()
    cost = hits = shared_hits = 0.0
    tiers = Counter[str]()
    for i in range(len(plan)):
        with sqlite3.connect(home / f"dev{i:02d}" / "ledger.sqlite3") as con:
            row = con.execute(
                "SELECT COALESCE(SUM(cost_usd), 0), COALESCE(SUM(cache_hit), 0),"
                " COALESCE(SUM(cache_hit AND shared), 0) FROM requests"
            ).fetchone()
            for tier, n in con.execute(
                "SELECT tier, COUNT(*) FROM requests WHERE NOT cache_hit AND model IS NOT NULL"
                " GROUP BY tier"
            ):
                tiers[tier] += n
        cost, hits, shared_hits = cost + row[0], hits + row[1], shared_hits + row[2]
    print(f"  {'L2' if url else 'L1 only'}: model calls by tier {dict(sorted(tiers.items()))}")
    return {
        "requests": outcomes["requests"],
        "static": outcomes["static"],
        "provider_calls": model_calls(fake) - calls_before,
        "cost_usd": cost,
        "l1_hits": hits - shared_hits,
        "l2_hits": shared_hits,
    }


async def latency(tmp: Path, fake: FakeProvider, url: str, repeat: int) -> str:
    """L2 lookup (GET several keys, verify the MAC, decode) vs a raw GET vs an L1 get."""
    # A deadline far above these latencies: a lookup cut short on a loaded machine would be
    # a miss, and this table is about the hit path (the fault table below is about deadlines).
    alice = developer(tmp / "alice", fake, url, timeout_ms=1000)
    path = FILES[0]
    source = path.read_text(encoding="utf-8")
    line = next(c.target.span.start_line for c in extract_all(str(path), source))
    task = alice.build_task("review", str(path), source, line, 4, tier="budget")
    first = await alice.run(task)
    await alice.stores.drain()
    assert first.model is not None and not first.cache_hit, "the first run must reach a model"
    ran, decision = alice.prepare(task)
    keys = alice.cache_keys(ran, get_handler(ran.action), decision)
    shared, l1 = alice.stores.shared, alice.stores.cache
    assert shared is not None and l1 is not None
    stored = next(k for k in keys if l1.get(k) is not None)
    raw = aioredis.Redis.from_url(url)
    value = await raw.get(stored)
    assert value is not None, "the answer must be in L2"

    async def raw_get() -> None:
        await raw.get(stored)

    async def raw_mget() -> None:
        await raw.mget(keys)

    async def l2_hit() -> None:
        found = await shared.lookup(keys)
        assert found.hit is not None

    async def l1_hit() -> None:
        assert l1.get_first(keys) is not None

    async def request_from_l2() -> None:
        # A teammate's answer, not yet in this L1: served by L2 (which fills L1; emptied
        # again, untimed, before the next).
        outcome = await alice.run(task)
        assert outcome.cache_hit

    async def request_from_l1() -> None:
        outcome = await alice.run(task)
        assert outcome.cache_hit

    async def empty_l1() -> None:
        await alice.stores.drain()
        l1.clear()

    calls = model_calls(fake)
    # Interleaved, one of each per round: the machine's load moves every row alike.
    ops = {
        f"raw GET of the stored value, {len(value)} B (baseline)": raw_get,
        f"raw MGET of the same {len(keys)} keys": raw_mget,
        f"L2 hit: lookup of {len(keys)} keys, MAC, decode": l2_hit,
        "L1 hit: diskcache get_first, decode": l1_hit,
        "request served from L2 (engine.run, fills L1)": request_from_l2,
        "request served from L1 (engine.run)": request_from_l1,
    }
    samples: dict[str, list[float]] = {name: [] for name in ops}
    for round_ in range(repeat + 3):
        for name, op in ops.items():
            if name.startswith("request served from L2"):
                await empty_l1()
            start = time.perf_counter()
            await op()
            took = time.perf_counter() - start
            await alice.stores.drain()  # a request's deferred writes must not slow the next op
            if round_ >= 3:  # three warm-up rounds
                samples[name].append(took)
    rows = list(samples.items())
    assert model_calls(fake) == calls, "a cache hit reached the provider"
    await raw.aclose()
    await alice.aclose()
    return table(
        f"L2 hit vs raw GET vs L1 hit (redis-server on 127.0.0.1, repeat {repeat})",
        rows,
        rows[0][0],
    )


PAUSE_S = 15  # CLIENT PAUSE length: longer than the paused requests take


def _variant(n: int) -> tuple[str, str]:
    """A fresh function each time (source, path): a miss in L1 and L2, never a repeat."""
    return SOURCE.replace("if item.kg > 10:", f"if item.kg > {100 + n}:"), f"/work/p/w{n}.py"


async def faults(tmp: Path, fake: FakeProvider, server: RedisServer, n: int) -> str:
    """Requests that miss both levels (so each asks L2, then a model): without a shared cache,
    with it up, blocked by CLIENT PAUSE and killed. Here every request tries L2 again (the
    2 s pause after a failure is set to 0), so each pays the worst case: one deadline."""
    shared_values.RETRY_AFTER_S = 0.0
    counter = iter(range(10**6))

    async def requests(engine: Engine) -> tuple[list[float], int]:
        took, warned = [], 0
        for _ in range(n):
            source, path = _variant(next(counter))
            task = engine.build_task("docstring", path, source, 3, 4)
            events: list[Event] = []
            start = time.perf_counter()
            outcome = await engine.run(task, on_event=events.append)
            took.append(time.perf_counter() - start)
            assert outcome.model is not None and not outcome.cache_hit
            warned += sum(e.kind == "warning" and "shared cache" in e.message for e in events)
            await engine.stores.drain()  # the deferred writes, untimed
        await engine.aclose()
        return took, warned

    rows, notes = [], []
    for name, url in (("no shared cache (baseline)", None), ("L2 up", server.url)):
        took, warned = await requests(
            developer(tmp / ("up" if url else "plain"), fake, url, timeout_ms=50)
        )
        rows.append((f"miss, {name}", took))
    paused = developer(tmp / "paused", fake, server.url, timeout_ms=50)
    await requests_warm(paused)
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(f"CLIENT PAUSE {PAUSE_S * 1000} ALL\r\n".encode())
        assert sock.recv(16).startswith(b"+OK")
    began = time.monotonic()
    took, warned = await requests(paused)
    assert time.monotonic() - began < PAUSE_S, "the pause ended first: raise PAUSE_S"
    rows.append(("miss, L2 blocked (CLIENT PAUSE), 50 ms deadline", took))
    notes.append(f"  CLIENT PAUSE: {warned} warning(s) over {n} requests")
    await asyncio.sleep(max(0.0, began + PAUSE_S - time.monotonic()) + 0.2)
    killed = developer(tmp / "killed", fake, server.url, timeout_ms=50)
    await requests_warm(killed)
    server.stop()
    try:
        took, warned = await requests(killed)
    finally:
        server.start()
    rows.append(("miss, L2 killed", took))
    notes.append(f"  killed: {warned} warning(s) over {n} requests")
    return table(
        f"requests while L2 fails (n {n} each; every request tries L2)",
        rows,
        rows[0][0],
        extra="\n".join(notes),
    )


async def requests_warm(engine: Engine) -> None:
    """One request before the fault, so the engine's L2 connection is open (as in an editor)."""
    source, path = _variant(10**6 + id(engine) % 1000)
    await engine.run(engine.build_task("docstring", path, source, 3, 4))
    await engine.stores.drain()


def summary(without: dict[str, float], with_l2: dict[str, float], developers: int) -> str:
    """The team simulation's table."""
    lines = [
        f"team simulation: {developers} developers, {int(without['requests'])} requests each run",
        f"{'':<24} {'provider calls':>15} {'dollars':>10} {'L1 hits':>8} {'L2 hits':>8}"
        f" {'static':>7}",
    ]
    for name, run in (("L1 only (each laptop)", without), ("L1 + shared L2", with_l2)):
        lines.append(
            f"{name:<24} {int(run['provider_calls']):>15} {run['cost_usd']:>10.4f}"
            f" {int(run['l1_hits']):>8} {int(run['l2_hits']):>8} {int(run['static']):>7}"
        )
    saved_calls = without["provider_calls"] - with_l2["provider_calls"]
    saved_usd = without["cost_usd"] - with_l2["cost_usd"]
    share = saved_usd / without["cost_usd"] if without["cost_usd"] else 0.0
    lines.append(
        f"saved by L2: {int(saved_calls)} provider calls"
        f" ({saved_calls / max(1, without['provider_calls']):.0%}),"
        f" ${saved_usd:.4f} ({share:.0%} of the L1-only spend)"
    )
    return "\n".join(lines)


async def measure(args: argparse.Namespace, tmp: Path, fake: FakeProvider) -> None:
    """Start redis-server, print both tables, stop it."""
    server = RedisServer(tmp / "redis").start()
    try:
        print(await latency(tmp / "latency", fake, server.url, args.repeat), flush=True)
        print()
        print(await faults(tmp / "faults", fake, server, max(10, args.repeat // 10)), flush=True)
        plan = workload(args.developers, args.requests, args.seed)
        # A fresh provider fake per run: it keeps prompt-cache state like a real provider,
        # and the second run must not pay less for prefixes the first one sent.
        with FakeProvider() as first:
            first.responder = fake_reply
            without = await replay(tmp / "l1-only", first, None, plan)
        with FakeProvider() as second:
            second.responder = fake_reply
            with_l2 = await replay(tmp / "shared", second, server.url, plan)
        print()
        print(summary(without, with_l2, args.developers))
        ratio = with_l2["provider_calls"] / max(1, without["provider_calls"])
        print(f"provider calls with L2 / without: {ratio:.2f}")
    finally:
        server.stop()


def main() -> None:
    """Print the shared-cache benchmark tables."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=300)
    parser.add_argument("--developers", type=int, default=20)
    parser.add_argument("--requests", type=int, default=15, help="requests per developer")
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, FakeProvider() as fake:
        fake.responder = fake_reply
        os.environ.update(
            ANTHROPIC_API_KEY=FAKE_KEY,
            OPENAI_API_KEY=FAKE_KEY,
            TIERWISE_DATA_DIR=str(Path(tmp) / "data"),
            TIERWISE_CACHE_DIR=str(Path(tmp) / "cache"),
        )
        os.environ[SECRET_ENV] = SECRET
        asyncio.run(measure(args, Path(tmp), fake))


if __name__ == "__main__":
    main()
