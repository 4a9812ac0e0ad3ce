"""Every benchmark in one command: `python -m bench` (under 10 minutes on 2 cores, plus the cost
replay's own few minutes).

Each script runs in its own process, one after the other, and prints its tables; the figures
in docs/benchmarks.md come from this command. `--quick` shortens every script (a smoke run).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from datetime import UTC, datetime

SCRIPTS: list[tuple[str, list[str], list[str]]] = [
    # module, full arguments, --quick arguments
    ("bench.lsp", ["--repeat", "300"], ["--repeat", "20"]),
    ("bench.hit_path", ["--repeat", "500"], ["--repeat", "20"]),
    ("bench.prerequest", ["--repeat", "300"], ["--repeat", "20"]),
    ("bench.startup", ["--spawns", "10"], ["--spawns", "2"]),
    ("bench.cputime", ["--spawns", "10"], ["--spawns", "2"]),
    ("bench.memory_floor", ["--spawns", "5"], ["--spawns", "1"]),
    ("bench.concurrency", ["--repeat", "3"], ["--repeat", "1", "--runs", "10"]),
    ("bench.request_cpu", ["--repeat", "30"], ["--repeat", "5"]),
    ("bench.plan", ["--repeat", "2"], ["--repeat", "1", "--tree", "requests"]),
    ("bench.plan_serial", ["--repeat", "5"], ["--repeat", "1", "--tree", "requests"]),
    ("bench.hostile", [], ["--quick"]),
    ("bench.routing", ["--repeat", "300"], ["--repeat", "20"]),
    ("bench.cache", ["--repeat", "300"], ["--repeat", "20"]),
    ("bench.replay", [], ["--limit", "60", "--lifetime", "server"]),
    ("bench.team", ["--repeat", "300"], ["--repeat", "20", "--developers", "4", "--requests", "5"]),
    ("bench.stats", ["--repeat", "5"], ["--repeat", "1", "--rows", "5000"]),
]


def main(argv: list[str] | None = None) -> int:
    """Run every benchmark script; the exit code is non-zero if any failed."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="few repetitions (a smoke run)")
    parser.add_argument("--only", help="comma-separated script names, e.g. lsp,plan")
    args = parser.parse_args(argv)
    wanted = {f"bench.{n.strip()}" for n in args.only.split(",")} if args.only else None
    now = datetime.now(UTC)
    print(f"tierwise benchmarks, {now:%Y-%m-%d %H:%M} UTC, Python {sys.version.split()[0]}")
    failed = []
    started = time.perf_counter()
    for module, full, quick in SCRIPTS:
        if wanted is not None and module not in wanted:
            continue
        print(f"\n== {module} {' '.join(quick if args.quick else full)}", flush=True)
        began = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", module, *(quick if args.quick else full)])
        print(f"({time.perf_counter() - began:.0f} s)", flush=True)
        if done.returncode:
            failed.append(module)
    total = time.perf_counter() - started
    print(f"\nall benchmarks: {total:.0f} s; failed: {', '.join(failed) or 'none'}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
