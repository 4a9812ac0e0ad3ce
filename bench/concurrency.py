"""Concurrency: 50 simultaneous `tierwise.run` requests against a local provider that takes
1 s to answer each, and 10 cancellations at once.

Run: .venv-dev/bin/python -m bench.concurrency [--runs N]

A burst is measured on a server that has made one provider call already (SDK imported: the
steady state), on a fresh one right after the file opens (the first import of the SDK is in the
wall time too), and on a fresh one 3 s after the file opens (the SDK imported meanwhile).
The provider is the local wire-protocol fake (official SDK, real HTTP); each of its answers
waits 1 s first, so the floor for 50 requests in parallel is 1 s of wall time. Every request is
for another function of a real file, so none is a cache hit. The spread is when the requests
reached the provider, from the first to the last. The burst's other floor is the official SDK
alone (bench/sdk_burst.py: one warm client in a process of its own streaming the same number of
requests at once, each about the size of tierwise's): on two cores its own request building and
event parsing take a few milliseconds a request, which fifty requests pay in turn. For
cancellation, 10 streaming runs are cancelled with one `$/cancelRequest` each, all at once; each
row is the time from the cancellation to the request's error answer, and the fake counts the
streams the server closed.
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import json
import statistics
import sys
import time
from typing import Any

from bench import realfiles
from bench.cputime import process_cpu
from bench.fake_apart import FakeApart
from bench.serve import open_document, run_args, server
from bench.timing import fmt, table
from tests.e2e.lsp_helpers import fake_reply
from tests.fakes.wire import FakeProvider

LATENCY_S = 1.0
# A fresh server whose user reads the file this long before asking: the server imports the
# provider SDK when the first document opens, so the first burst need not wait for it.
READING_S = 3.0


def function_lines(text: str, count: int) -> list[int]:
    """A 0-based line inside each of `count` different functions (cycled if the file has fewer)."""
    lines = [
        node.body[-1].lineno - 1
        for node in ast.walk(ast.parse(text))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    ]
    return [lines[i % len(lines)] for i in range(count)]


async def burst(
    fake: FakeProvider | FakeApart,
    file: realfiles.RealFile,
    runs: int,
    *,
    warm: bool,
    reading: float = 0,
) -> tuple[float, float, float]:
    """(wall seconds for `runs` simultaneous runs, spread of their arrival at the provider,
    the server's CPU seconds over the burst: steadier than wall time on a busy machine).

    `warm`: one provider call first, so the SDK is imported and connected before the burst
    (a server that has been running a while); else the burst pays the first import too.
    `reading`: seconds between opening the file and the burst (a user reading it first)."""
    arrivals: list[float] = []
    if isinstance(fake, FakeProvider):

        def reply(body: dict[str, Any]) -> str:
            arrivals.append(time.perf_counter())
            return fake_reply(body)

        fake.responder = reply
    async with server(fake, file.path.parent) as client:  # type: ignore[arg-type]
        uri = open_document(client, file.path, file.text)
        await client.request("tierwise/noSuchMethod", {})  # the document is in
        await asyncio.sleep(reading)
        lines = function_lines(file.text, runs)
        if warm:
            await client.request(
                "workspace/executeCommand", run_args(uri, lines[0], action="docstring")
            )
            arrivals.clear()
        if isinstance(fake, FakeApart):
            fake.take_arrivals()
        fake.script(*[("hang", LATENCY_S)] * runs)
        cpu_before = process_cpu(client.process.pid)
        started = time.perf_counter()
        futures = [
            client.start_request(
                "workspace/executeCommand",
                run_args(uri, line, action="explain", refresh=i >= len(set(lines))),
            )[1]
            for i, line in enumerate(lines)
        ]
        results = await asyncio.gather(*futures)
        wall = time.perf_counter() - started
        cpu = process_cpu(client.process.pid) - cpu_before
    if isinstance(fake, FakeApart):
        arrivals = fake.take_arrivals()
    failed = [r for r in results if not (isinstance(r, dict) and "cache_hit" in r)]
    assert not failed, failed[:2]
    spread = max(arrivals) - min(arrivals) if arrivals else float("nan")
    return wall, spread, cpu


async def cancellations(
    fake: FakeProvider | FakeApart, file: realfiles.RealFile, count: int
) -> tuple[list[float], int]:
    """Seconds from each cancellation to its answer, and how many streams the server closed."""
    if isinstance(fake, FakeProvider):
        fake.responder = fake_reply
    async with server(fake, file.path.parent) as client:  # type: ignore[arg-type]
        uri = open_document(client, file.path, file.text)
        lines = function_lines(file.text, count)
        before, first = fake.closed_early, fake.request_count
        fake.script(*[("slow", 400, 0.02)] * count)  # 8 s streams, a chunk every 20 ms
        started = [
            client.start_request(
                "workspace/executeCommand", run_args(uri, line, action="explain", refresh=True)
            )
            for line in lines
        ]
        deadline = time.perf_counter() + 30
        while fake.request_count < first + count and time.perf_counter() < deadline:
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.3)  # every stream is flowing
        sent = time.perf_counter()
        for ident, _ in started:
            client.cancel(ident)
        answered: list[float] = []

        async def wait(future: asyncio.Future[Any]) -> None:
            reply = await future
            answered.append(time.perf_counter() - sent)
            assert isinstance(reply, dict) and reply.get("code") == -32800, reply

        await asyncio.gather(*(wait(f) for _, f in started))
        deadline = time.perf_counter() + 5
        while fake.closed_early - before < count and time.perf_counter() < deadline:
            await asyncio.sleep(0.01)
        closed = fake.closed_early - before
    return answered, closed


async def sdk_alone(
    fake: FakeProvider | FakeApart, file: realfiles.RealFile, runs: int
) -> tuple[float, float]:
    """(wall, CPU seconds) for `runs` streams at once through the official SDK alone
    (bench/sdk_burst.py): what any client built on it pays here, the floor of tierwise's burst."""
    lines = function_lines(file.text, runs)
    base_url = fake.anthropic_base_url.removesuffix("/v1")  # the SDK adds /v1 itself
    child = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "bench.sdk_burst", base_url, str(file.path)),
        *(str(line) for line in lines),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert child.stdin is not None and child.stdout is not None
    ready = await child.stdout.readline()
    assert ready.strip() == b"ready", ready
    fake.script(*[("hang", LATENCY_S)] * runs)
    child.stdin.write(b"go\n")
    await child.stdin.drain()
    result = json.loads(await child.stdout.readline())
    await child.wait()
    return float(result["wall_s"]), float(result["cpu_s"])


async def measure(args: argparse.Namespace, fake: FakeProvider | FakeApart) -> str:
    """The burst on two files, then the cancellations."""
    out = []
    rows = []
    cpu_rows: list[tuple[str, list[float]]] = []
    spreads = []
    for file in (realfiles.mid_large(), realfiles.large()):
        if isinstance(fake, FakeProvider):
            fake.responder = fake_reply
        alone = [await sdk_alone(fake, file, args.runs) for _ in range(args.repeat)]
        name = f"{args.runs} at once, {file.path.name}"
        rows.append((f"{name}: the official SDK alone", [wall for wall, _ in alone]))
        cpu_rows.append((f"{name}: the official SDK alone", [cpu for _, cpu in alone]))
        for warm, reading in ((True, 0.0), (False, 0.0), (False, READING_S)):
            walls, cpus = [], []
            for _ in range(args.repeat):
                wall, spread, cpu = await burst(fake, file, args.runs, warm=warm, reading=reading)
                walls.append(wall)
                cpus.append(cpu)
                if warm:
                    spreads.append(f"{file.label}: {fmt(spread)}")
            state = (
                "SDK warm"
                if warm
                else f"first call {reading:.0f} s after opening the file"
                if reading
                else "first call at once: SDK import too"
            )
            rows.append((f"{args.runs} at once, {file.path.name} ({state})", walls))
            if warm:
                cpu_rows.append((f"{args.runs} at once, {file.path.name}: tierwise serve", cpus))
    floor = [LATENCY_S] * args.repeat
    rows.insert(0, (f"provider latency (floor: {LATENCY_S:.0f} s per answer)", floor))
    out.append(
        table(
            "concurrency: wall time from the first request sent to the last answer",
            rows,
            rows[0][0],
            extra="  arrival spread at the provider: " + ", ".join(spreads),
        )
    )
    for first in range(0, len(cpu_rows), 2):  # each file's pair: the SDK alone, then tierwise
        pair = cpu_rows[first : first + 2]
        out.append(table("CPU seconds of the warm burst's process", pair, pair[0][0]))
    answered, closed = await cancellations(fake, realfiles.mid_large(), 10)
    out.append(
        table(
            "10 cancellations at once: cancel sent to error answer",
            [("cancel → answer", answered)],
            "cancel → answer",
            extra=f"  streams closed at the provider: {closed} of 10; "
            f"slowest answer {fmt(max(answered))}, median {fmt(statistics.median(answered))}",
        )
    )
    return "\n\n".join(out)


def main(argv: list[str] | None = None) -> None:
    """Print the concurrency tables."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--fake-in-process",
        action="store_true",
        help="run the provider fake in this process (as before pass 3) rather than its own",
    )
    args = parser.parse_args(argv)
    fake: FakeProvider | FakeApart
    with FakeProvider() if args.fake_in_process else FakeApart() as fake:
        where = "in the benchmark's process" if args.fake_in_process else "in its own process"
        print(f"provider fake {where}")
        print(asyncio.run(measure(args, fake)))


if __name__ == "__main__":
    main()
