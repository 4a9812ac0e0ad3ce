"""`tierwise stats` on a large ledger, against reading every row of it once.

Run: .venv-dev/bin/python -m bench.stats [--rows 50000] [--repeat 5]

A deterministic ledger of `--rows` requests over the last 40 days (five actions, every tier,
a sixth of them refused, failed or declined, a third cache hits) is written once to a temporary
directory. Then, alternating, as fresh processes: `tierwise stats` on it; the floor, a process
that opens the same file and fetches every row once (`SELECT * FROM requests`: the least any
report over the whole ledger does); and `python -c pass` (start-up). The table is CPU seconds
(user + system) per run, the figure the machine's load moves least.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import subprocess
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.timing import table

FLOOR = """
import sqlite3, sys
con = sqlite3.connect(sys.argv[1])
rows = con.execute("SELECT * FROM requests").fetchall()
"""


def write_ledger(path: Path, rows: int) -> None:
    """`rows` requests of the last 40 days, the same for every run of the bench."""
    from tierwise.ledger import Ledger, LedgerRow

    rnd = random.Random(7)
    ledger = Ledger(path)
    tiers = ["static", "local", "budget", "mid", "frontier"]
    now = datetime.now(UTC)
    for i in range(rows):
        tier = rnd.choice(tiers)
        ledger.record(
            LedgerRow(
                action=rnd.choice(["docstring", "rename", "explain", "review", "design"]),
                language="python",
                tier=tier,
                wanted_tier=rnd.choice(tiers),
                cell_tier=tier if rnd.random() < 0.8 else "",
                model="anthropic:claude-sonnet-4-6",
                provider="anthropic",
                session=f"s{i // 400}",
                ts=(now - timedelta(days=40) * (1 - i / rows)).isoformat(),
                cost_usd=0.0 if tier in ("static", "local") else rnd.random() / 100,
                baseline_usd=rnd.random() / 50,
                outcome=rnd.choice(["ok"] * 14 + ["refused", "error", "declined"]),
                cache_hit=rnd.random() < 0.3,
                target=f"t{rnd.randrange(3000)}",
                input_tokens=rnd.randrange(3000),
                output_tokens=rnd.randrange(800),
            )
        )
    ledger.close()


def cpu(command: list[str], env: dict[str, str]) -> float:
    """CPU seconds (user + system) of one run of `command`; its output is dropped."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    """Write the ledger, then time stats, the floor and start-up alternately."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tierwise-bench-stats-") as tmp:
        home = Path(tmp)
        ledger = home / "data" / "ledger.sqlite3"
        ledger.parent.mkdir()
        write_ledger(ledger, args.rows)
        env = {
            **os.environ,
            "TIERWISE_DATA_DIR": str(ledger.parent),
            "TIERWISE_CACHE_DIR": str(home / "cache"),
            "TIERWISE_CONFIG": str(home / "config.toml"),
        }
        runs: dict[str, list[float]] = {"stats": [], "floor": [], "start-up": []}
        commands = {
            "stats": [sys.executable, "-m", "tierwise", "stats"],
            "floor": [sys.executable, "-c", FLOOR, str(ledger)],
            "start-up": [sys.executable, "-c", "pass"],
        }
        for _ in range(args.repeat):
            for name, command in commands.items():
                runs[name].append(cpu(command, env))
    names = {
        "stats": f"`tierwise stats`, {args.rows:,} rows (CPU)",
        "floor": "floor: every row fetched once (CPU)",
        "start-up": "python -c pass (CPU)",
    }
    rows = [(names[k], v) for k, v in runs.items()]
    print(table(f"stats on a {args.rows:,}-row ledger", rows, names["floor"]))


if __name__ == "__main__":
    main()
