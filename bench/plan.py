"""`tierwise plan` throughput on a large real tree (the Django sdist) against reading and
`ast.parse`-ing every file of it.

Run: .venv-dev/bin/python -m bench.plan [--repeat N] [--tree django]

All run as fresh processes on the same file list, alternating; plan's output is read and
dropped. The floor is the least any tool that parses each file once has to do. Each round
starts with an empty cache, so the first plan computes every row and the second finds every
file unchanged (its rows remembered by content, cache/plan_rows.py).
"""

from __future__ import annotations

import argparse
import os
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


def timed(command: list[str], env: dict[str, str], summary: bool = False) -> tuple[float, str]:
    """Wall seconds of a command, and (with summary) the last line it printed."""
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, env=env)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{command[:4]} failed: {done.stderr.decode()[-400:]}")
    lines = done.stdout.decode(errors="replace").strip().splitlines()
    return elapsed, (lines[-1] if summary and lines else "")


def main(argv: list[str] | None = None) -> None:
    """Print the plan throughput table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--tree", default="django")
    args = parser.parse_args(argv)
    root = sdist(args.tree)
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


if __name__ == "__main__":
    main()
