"""Start-up and memory against a bare pygls server; CLI cold start against `python -c pass`.

Run: .venv-dev/bin/python -m bench.startup [--spawns N]

`initialize` is timed from process start to its response, alternating with a bare pygls
server that has no features (bench/bare_server.py), so machine noise hits both alike. RSS is
read from /proc after initialize (idle) and after the first provider call (the SDK imported
and its HTTP client open). While that first call runs, the client keeps sending bare round
trips: the slowest one shows whether importing the SDK stalls the server.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import realfiles
from bench.rpc import RawClient
from bench.serve import (
    BARE,
    ROOT,
    TIERWISE,
    USER_CONFIG,
    compile_checkout,
    environment,
    initialize_params,
    open_document,
    run_args,
)
from bench.timing import fmt, quantile, table
from tests.e2e.lsp_helpers import fake_reply
from tests.fakes.wire import FakeProvider


def rss_mb(pid: int) -> float:
    """Resident set size of a process in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def spawn_initialized(
    command: list[str], env: dict[str, str], root: Path
) -> tuple[RawClient, float]:
    """A started, initialized server and the seconds from spawn to the initialize response."""
    started = time.perf_counter()
    client = await RawClient.spawn(command, env)
    await client.request("initialize", initialize_params(root))
    elapsed = time.perf_counter() - started
    client.notify("initialized", {})
    return client, elapsed


async def first_call_stall(client: RawClient, file: realfiles.RealFile) -> tuple[float, float]:
    """(seconds of the first provider call, slowest bare round trip sent during it)."""
    uri = open_document(client, file.path, file.text)
    worst = 0.0
    started = time.perf_counter()
    _, run = client.start_request("workspace/executeCommand", run_args(uri, file.line))
    while not run.done():
        sent = time.perf_counter()
        await client.request("tierwise/noSuchMethod", {})
        worst = max(worst, time.perf_counter() - sent)
        await asyncio.sleep(0.005)
    result = run.result()
    assert isinstance(result, dict) and result.get("cache_hit") is False, result
    return time.perf_counter() - started, worst


async def measure_server(spawns: int, fake: FakeProvider) -> str:
    """initialize times, RSS and the first-call stall."""
    file = realfiles.small()
    root = file.path.parent
    inits: dict[str, list[float]] = {"bare": [], "tierwise": []}
    rss: dict[str, list[float]] = {"bare": [], "idle": [], "first": []}
    stalls: list[float] = []
    firsts: list[float] = []
    for _ in range(spawns):
        with tempfile.TemporaryDirectory() as tmp:
            env = environment(Path(tmp), fake)
            bare, elapsed = await spawn_initialized(BARE, env, root)
            inits["bare"].append(elapsed)
            await asyncio.sleep(0.3)
            rss["bare"].append(rss_mb(bare.process.pid))
            await bare.close()
            client, elapsed = await spawn_initialized(TIERWISE, env, root)
            inits["tierwise"].append(elapsed)
            await asyncio.sleep(0.3)  # let `initialized` work (config pull, watcher) settle
            rss["idle"].append(rss_mb(client.process.pid))
            seconds, worst = await first_call_stall(client, file)
            firsts.append(seconds)
            stalls.append(worst)
            await asyncio.sleep(0.2)
            rss["first"].append(rss_mb(client.process.pid))
            await client.close()
    rows = [
        ("initialize: bare pygls server (floor)", inits["bare"]),
        ("initialize: tierwise serve", inits["tierwise"]),
        ("first provider call (SDK import + local fake)", firsts),
        ("slowest bare round trip during the first call", stalls),
    ]
    extra = [
        f"  initialize: bare {_signed_ms(inits['tierwise'], inits['bare'])}",
        "  RSS (MB, median of spawns): "
        f"bare pygls {statistics.median(rss['bare']):.1f}, "
        f"tierwise idle after initialize {statistics.median(rss['idle']):.1f} "
        f"(max {max(rss['idle']):.1f}), "
        f"after the first provider call {statistics.median(rss['first']):.1f} "
        f"(max {max(rss['first']):.1f})",
    ]
    return table("server start-up", rows, rows[0][0], extra="\n".join(extra))


def _signed_ms(a: list[float], b: list[float]) -> str:
    median = statistics.median(a) - statistics.median(b)
    p99 = quantile(a, 0.99) - quantile(b, 0.99)
    return f"+ {fmt(median)} median, + {fmt(p99)} max"


def time_command(command: list[str], cwd: Path) -> float:
    """Seconds for a command to run to completion (output discarded)."""
    started = time.perf_counter()
    subprocess.run(
        command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True
    )
    return time.perf_counter() - started


def measure_cli(spawns: int) -> str:
    """CLI cold starts, interleaved with the interpreter's own start."""
    file = realfiles.small()
    with tempfile.TemporaryDirectory() as tmp:
        env_dir = Path(tmp)
        target = f"{file.path}:{file.line + 1}"
        config = env_dir / "config.toml"
        config.write_text(USER_CONFIG, encoding="utf-8")
        commands = {
            "python -c pass (floor)": [sys.executable, "-c", "pass"],
            "tierwise --version": [sys.executable, "-m", "tierwise", "--version"],
            "tierwise route review FILE:LINE --json": [
                sys.executable,
                "-m",
                "tierwise",
                "route",
                "review",
                target,
                "--json",
            ],
            "the same with a user config file (--config)": [
                *(sys.executable, "-m", "tierwise", "route", "review", target, "--json"),
                *("--config", str(config)),
            ],
            "import tierwise.cli.main (python -c)": [
                sys.executable,
                "-c",
                "import tierwise.cli.main",
            ],
        }
        samples: dict[str, list[float]] = {name: [] for name in commands}
        os.environ["TIERWISE_DATA_DIR"] = str(env_dir / "data")
        os.environ["TIERWISE_CACHE_DIR"] = str(env_dir / "cache")
        os.environ["PYTHONPATH"] = str(ROOT)  # the checkout measured, whatever the cwd
        for _ in range(spawns):
            for name, command in commands.items():
                samples[name].append(time_command(command, env_dir))
    rows = list(samples.items())
    return table("CLI cold start", rows, rows[0][0])


def main(argv: list[str] | None = None) -> None:
    """Print the start-up tables."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--spawns", type=int, default=10)
    args = parser.parse_args(argv)
    compile_checkout()
    with FakeProvider() as fake:
        fake.responder = fake_reply
        print(asyncio.run(measure_server(args.spawns, fake)))
    print()
    print(measure_cli(args.spawns * 2))


if __name__ == "__main__":
    main()
