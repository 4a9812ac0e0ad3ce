"""`tierwise plan` throughput on a large real tree (the Django sdist) against reading and
`ast.parse`-ing every file of it.

Run: .venv-dev/bin/python -m bench.plan [--repeat N] [--tree django]

Both run as fresh processes on the same file list, alternating; plan's JSON goes to
/dev/null. The floor is the least any tool that parses each file once has to do.
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
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "TIERWISE_DATA_DIR": str(Path(tmp) / "data"),
            "TIERWISE_CACHE_DIR": str(Path(tmp) / "cache"),
            "TIERWISE_CONFIG": str(Path(tmp) / "none.toml"),
        }
        floor: list[float] = []
        plan: list[float] = []
        targets = ""
        for _ in range(args.repeat):
            floor.append(timed([sys.executable, "-c", FLOOR, str(root)], env)[0])
            seconds, targets = timed(
                [sys.executable, "-m", "tierwise", "plan", str(root), "--workspace", tmp],
                env,
                summary=True,
            )
            plan.append(seconds)
    rows = [
        (f"read + ast.parse of {files} files (floor)", floor),
        ("tierwise plan (docstring, review)", plan),
    ]
    print(
        table(f"plan: {root.name} ({files} Python files)", rows, rows[0][0], extra="  " + targets)
    )


if __name__ == "__main__":
    main()
