"""CPU time of start-up: what wall times measure, without the waits a busy machine adds.

Run: .venv-dev/bin/python -m bench.cputime [--spawns N]

On a shared 2-core machine a cold start's wall time is mostly time spent waiting for a core
(load averages of 5 to 12 tripled every start-up figure between runs). The CPU time a process
used (user + system, from the kernel) is what the code itself costs, and barely moves with the
load. This script measures it for the CLI's cold starts (from `getrusage` of each finished
child) and for a server up to its `initialize` answer (utime + stime from /proc, read when the
answer arrives), alternating each with its floor: `python -c pass`, a bare pygls server.

`--instructions` also counts the instructions each one executes, once, under valgrind
(cachegrind without its cache model; valgrind must be installed): a figure that does not move
with the load at all, where CPU time still moves by a third at a load of 5 on 2 cores.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
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
)
from bench.timing import table
from tests.fakes.wire import FakeProvider

TICK = os.sysconf("SC_CLK_TCK")


def child_cpu(command: list[str], cwd: Path) -> float:
    """CPU seconds (user + system) a command used, run to completion."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(
        command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) a running process has used so far, all threads."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime (fields 14, 15)


async def initialize_cpu(command: list[str], env: dict[str, str], root: Path) -> float:
    """CPU seconds a server used from its start to its initialize answer."""
    client = await RawClient.spawn(command, env)
    try:
        await client.request("initialize", initialize_params(root))
        return process_cpu(client.process.pid)
    finally:
        await client.close()


async def measure_server(spawns: int) -> str:
    """The server's CPU time to its initialize answer, against a bare pygls server's."""
    root = realfiles.small().path.parent
    samples: dict[str, list[float]] = {"bare": [], "tierwise": []}
    with FakeProvider() as fake:
        for _ in range(spawns):
            with tempfile.TemporaryDirectory() as tmp:
                env = environment(Path(tmp), fake)
                samples["bare"].append(await initialize_cpu(BARE, env, root))
                samples["tierwise"].append(await initialize_cpu(TIERWISE, env, root))
    rows = [
        ("CPU to initialize: bare pygls (floor)", samples["bare"]),
        ("CPU to initialize: tierwise serve", samples["tierwise"]),
    ]
    return table("server start-up, CPU time (user + system)", rows, rows[0][0])


def measure_cli(spawns: int) -> str:
    """CPU time of CLI cold starts, interleaved with the interpreter's own start."""
    file = realfiles.small()
    target = f"{file.path}:{file.line + 1}"
    route = [sys.executable, "-m", "tierwise", "route", "review", target, "--json"]
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "config.toml"
        config.write_text(USER_CONFIG, encoding="utf-8")
        commands = {
            "python -c pass (floor)": [sys.executable, "-c", "pass"],
            "tierwise --version": [sys.executable, "-m", "tierwise", "--version"],
            "tierwise route review FILE:LINE --json": route,
            "the same with a user config file (--config)": [*route, "--config", str(config)],
        }
        samples: dict[str, list[float]] = {name: [] for name in commands}
        os.environ["TIERWISE_DATA_DIR"] = str(Path(tmp) / "data")
        os.environ["TIERWISE_CACHE_DIR"] = str(Path(tmp) / "cache")
        os.environ["PYTHONPATH"] = str(ROOT)
        for _ in range(spawns):
            for name, command in commands.items():
                samples[name].append(child_cpu(command, Path.cwd()))
    rows = list(samples.items())
    return table("CLI cold start, CPU time (user + system)", rows, rows[0][0])


VALGRIND = ["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null"]


def _instructions(report: str) -> int:
    """The "I refs" total from valgrind's report on stderr."""
    found = re.search(r"I\s+refs:\s+([\d,]+)", report)
    if found is None:
        raise RuntimeError(f"no instruction count in valgrind's output: {report[-500:]}")
    return int(found.group(1).replace(",", ""))


def command_instructions(command: list[str], env: dict[str, str]) -> int:
    """Instructions a command executes, run to completion under valgrind."""
    run = subprocess.run(
        [*VALGRIND, *command], env=env, capture_output=True, text=True, check=True, timeout=600
    )
    return _instructions(run.stderr)


def server_instructions(command: list[str], env: dict[str, str], root: Path) -> int:
    """Instructions a server executes from its start to its initialize answer (under valgrind;
    the server is stopped by SIGTERM once the answer is read, and only waits meanwhile)."""
    body = json.dumps(
        {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": initialize_params(root)}
    ).encode()
    process = subprocess.Popen(
        [*VALGRIND, *command],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
    process.stdin.flush()
    length = 0
    while (line := process.stdout.readline()) not in (b"\r\n", b""):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    process.stdout.read(length)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=600)
    return _instructions(err.decode("utf-8", "replace"))


def measure_instructions() -> str:
    """Instructions of each start-up and its floor, one run each (they are deterministic)."""
    file = realfiles.small()
    target = f"{file.path}:{file.line + 1}"
    rows: list[tuple[str, int, int]] = []
    with tempfile.TemporaryDirectory() as tmp, FakeProvider() as fake:
        env = environment(Path(tmp), fake)
        root = file.path.parent
        bare = server_instructions(BARE, env, root)
        rows.append(("initialize: bare pygls (floor)", bare, bare))
        rows.append(("initialize: tierwise serve", server_instructions(TIERWISE, env, root), bare))
        config = Path(tmp) / "user.toml"
        config.write_text(USER_CONFIG, encoding="utf-8")
        # As the CPU rows run them: no keys, no user config file unless --config names one.
        cli = {k: v for k, v in env.items() if not k.endswith("_API_KEY")}
        cli["TIERWISE_CONFIG"] = str(Path(tmp) / "none.toml")
        route = [sys.executable, "-m", "tierwise", "route", "review", target, "--json"]
        floor = command_instructions([sys.executable, "-c", "pass"], cli)
        rows.append(("python -c pass (floor)", floor, floor))
        for name, command in [
            ("tierwise --version", [sys.executable, "-m", "tierwise", "--version"]),
            ("tierwise route review FILE:LINE --json", route),
            ("the same with a user config file (--config)", [*route, "--config", str(config)]),
        ]:
            rows.append((name, command_instructions(command, cli), floor))
    lines = [
        "instructions executed (valgrind), one run each",
        f"{'measurement':<52} {'instructions':>14} {'ratio':>7}",
    ]
    for name, count, base in rows:
        lines.append(f"{name:<52} {count / 1e6:>12.1f} M {count / base:>6.2f}x")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Print the CPU-time tables."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--spawns", type=int, default=10)
    parser.add_argument(
        "--instructions", action="store_true", help="also count instructions under valgrind"
    )
    args = parser.parse_args(argv)
    compile_checkout()
    if args.instructions and shutil.which("valgrind") is None:
        parser.error("--instructions needs valgrind (apt-get install valgrind)")
    print(asyncio.run(measure_server(args.spawns)))
    print()
    print(measure_cli(args.spawns * 2))
    if args.instructions:
        print()
        print(measure_instructions())


if __name__ == "__main__":
    main()
