"""`tierwise plan` throughput on a large real tree (the Django sdist) against reading and
`ast.parse`-ing every file of it.

Run: .venv-dev/bin/python -m bench.plan [--repeat N] [--tree django]
     .venv-dev/bin/python -m bench.plan --in-process django/db [--repeat N]
     .venv-dev/bin/python -m bench.plan --in-process django/db --instructions

`--in-process SUBDIR` plans one part of the tree in this process instead (no start-up, no
workers, a fresh engine each round), against reading and parsing the same files in this
process, in CPU seconds: the steadiest figure on a busy machine, for before/after runs.
With `--instructions`, the same work is counted in instructions executed, under valgrind (one
run each, a figure the machine's load does not move): plan_files is (start, engine, plan) minus
(start, engine), the floor is (start, read + parse) minus (start).

All run as fresh processes on the same file list, alternating; plan's output is read and
dropped. The floor is the least any tool that parses each file once has to do. Each round
starts with an empty cache, so the first plan computes every row and the second finds every
file unchanged (its rows remembered by content, cache/plan_rows.py).
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.timing import table
from tests.realcode import sdist

FLOOR = """
import ast, os, sys
skip = {".git", ".hg", "node_modules", "__pycache__", ".venv", "venv", "dist", "build", ".tox"}
for dirpath, dirnames, filenames in os.walk(sys.argv[1]):
    dirnames[:] = sorted(d for d in dirnames if d not in skip and not d.startswith("."))
    for name in sorted(filenames):
        if name.endswith(".py"):
            try:
                ast.parse(open(os.path.join(dirpath, name), encoding="utf-8").read())
            except (SyntaxError, ValueError, UnicodeDecodeError):
                pass
"""


CPU: dict[str, list[float]] = {}  # row label -> CPU seconds of each run (workers included)


def timed(command: list[str], env: dict[str, str], summary: bool = False) -> tuple[float, str]:
    """Wall seconds of a command, and (with summary) the last line it printed; its CPU
    seconds (user + system, its worker processes included) go to CPU[label]."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, env=env)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    CPU.setdefault(_label(command), []).append(cpu)
    if done.returncode != 0:
        raise SystemExit(f"{command[:4]} failed: {done.stderr.decode()[-400:]}")
    lines = done.stdout.decode(errors="replace").strip().splitlines()
    return elapsed, (lines[-1] if summary and lines else "")


def main(argv: list[str] | None = None) -> None:
    """Print the plan throughput table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--tree", default="django")
    parser.add_argument("--in-process", metavar="SUBDIR", help="e.g. django/db")
    parser.add_argument("--instructions", action="store_true", help="count them (valgrind)")
    parser.add_argument("--count", choices=COUNTED, help=argparse.SUPPRESS)  # one part of it
    args = parser.parse_args(argv)
    root = sdist(args.tree)
    if args.count:
        counted(root / args.in_process, args.count)
    elif args.in_process and args.instructions:
        instructions(args.tree, args.in_process)
    elif args.in_process:
        in_process(root / args.in_process, args.repeat)
    if args.in_process:
        return
    files = sum(1 for _ in root.rglob("*.py"))
    floor: list[float] = []
    cold: list[float] = []
    warm: list[float] = []
    targets = ""
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory() as tmp:  # a new cache each round: the first is cold
            env = {
                **os.environ,
                "TIERWISE_DATA_DIR": str(Path(tmp) / "data"),
                "TIERWISE_CACHE_DIR": str(Path(tmp) / "cache"),
                "TIERWISE_CONFIG": str(Path(tmp) / "none.toml"),
            }
            command = [sys.executable, "-m", "tierwise", "plan", str(root), "--workspace", tmp]
            floor.append(timed([sys.executable, "-c", FLOOR, str(root)], env)[0])
            seconds, targets = timed(command, env, summary=True)
            cold.append(seconds)
            warm.append(timed(command, env)[0])  # the same tree again, unchanged
    rows = [
        (f"read + ast.parse of {files} files (floor)", floor),
        ("tierwise plan (docstring, review), first run", cold),
        ("tierwise plan again, tree unchanged", warm),
    ]
    print(
        table(f"plan: {root.name} ({files} Python files)", rows, rows[0][0], extra="  " + targets)
    )
    # CPU time barely moves with the machine's load (wall time here tripled between runs).
    floor_cpu, plan_cpu = CPU["floor"], CPU["plan"]
    cpu_rows = [
        ("floor, CPU seconds", floor_cpu),
        ("plan first run, CPU seconds (all processes)", plan_cpu[0::2]),
        ("plan again, CPU seconds", plan_cpu[1::2]),
    ]
    print()
    print(table("plan: CPU time (user + system)", cpu_rows, cpu_rows[0][0]))


def in_process(root: Path, repeat: int) -> None:
    """CPU seconds of plan_files over a tree in this process, against read + ast.parse."""
    import ast

    from tierwise.cli import plan
    from tierwise.config import Config
    from tierwise.core.task import Action
    from tierwise.engine import Engine

    files = sorted(root.rglob("*.py"))
    actions = [Action.DOCSTRING, Action.REVIEW]
    floor: list[float] = []
    planned: list[float] = []
    rows = 0
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as tmp:
            os.environ["TIERWISE_DATA_DIR"] = tmp  # an empty ledger
            started = time.process_time()
            for path in files:
                ast.parse(path.read_text(encoding="utf-8"))
            floor.append(time.process_time() - started)
            engine = Engine(Config(), workspace_root=tmp)
            bar = plan.ProgressBar(len(files), enabled=False)
            started = time.process_time()
            results = plan.plan_files(engine, files, actions, 2000, bar, parallel_from=10**9)
            rows = sum(len(file_rows) for file_rows, _ in results)
            planned.append(time.process_time() - started)
    title = f"plan in one process: {root} ({len(files)} files, {rows} rows), CPU seconds"
    cpu_rows = [("read + ast.parse (floor)", floor), ("plan_files (docstring, review)", planned)]
    print(table(title, cpu_rows, cpu_rows[0][0]))


COUNTED = ("start", "floor", "engine", "plan")


def counted(root: Path, part: str) -> None:
    """One part of the work `instructions` counts, from this process's start."""
    import ast

    files = sorted(root.rglob("*.py"))
    if part == "floor":
        for path in files:
            ast.parse(path.read_text(encoding="utf-8"))
    if part not in ("engine", "plan"):
        return
    from tierwise.cli import plan
    from tierwise.config import Config
    from tierwise.core.task import Action
    from tierwise.engine import Engine

    with tempfile.TemporaryDirectory() as tmp:
        os.environ["TIERWISE_DATA_DIR"] = tmp  # an empty ledger
        engine = Engine(Config(), workspace_root=tmp)
        if part == "plan":
            bar = plan.ProgressBar(len(files), enabled=False)
            actions = [Action.DOCSTRING, Action.REVIEW]
            for _ in plan.plan_files(engine, files, actions, 2000, bar, parallel_from=10**9):
                pass


def instructions(tree: str, subdir: str) -> None:
    """Instructions of plan_files over a tree in one process, against read + ast.parse."""
    from bench.cputime import command_instructions

    base = [sys.executable, "-m", "bench.plan", "--tree", tree, "--in-process", subdir]
    count = {
        part: command_instructions([*base, "--count", part], dict(os.environ)) for part in COUNTED
    }
    floor = count["floor"] - count["start"]
    planned = count["plan"] - count["engine"]
    print(f"plan in one process: {subdir}, instructions executed (valgrind), one run each")
    print(f"{'measurement':<40} {'instructions':>14} {'ratio':>7}")
    for name, value in (("read + ast.parse (floor)", floor), ("plan_files", planned)):
        print(f"{name:<40} {value / 1e6:>12.1f} M {value / floor:>6.2f}x")


def _label(command: list[str]) -> str:
    return "plan" if command[1:3] == ["-m", "tierwise"] else "floor"


if __name__ == "__main__":
    main()
