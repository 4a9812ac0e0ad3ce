"""The serial parts of `tierwise plan`'s first run, each against the way it was done before
pass 8, side by side in one process: what runs on one core before the first file is planned
and after the last one.

Run: .venv-dev/bin/python -m bench.plan_serial [--repeat N] [--tree django]

- the file list: `iter_sources` with each path resolved (before) against `resolved_sources`;
- two workers' start, from the pool's creation to both having answered a first trivial job:
  spawned (before) against forked, each with plan's initializer (an engine);
- the table's lines after the last file (`plan_text` over every row, before) against joining
  lines made as the rows came (the lines themselves are then made while the workers run).

Wall seconds, and CPU seconds of this process and its workers; the first row of each part
is the newer way (the table's floor), so a ratio above 1 is what it saves.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import multiprocessing
import os
import resource
import tempfile
import time
from typing import Any

from bench.timing import table


def start_workers(method: str, engine: Any) -> None:
    """Two workers of `method` started and each answering once."""
    from tierwise.cli import plan

    context = multiprocessing.get_context(method)
    with concurrent.futures.ProcessPoolExecutor(
        2,
        mp_context=context,
        initializer=plan._start_worker,
        initargs=(engine.config, engine.workspace_root, engine.stores.held),
    ) as pool:
        pids: set[int] = set()
        while len(pids) < 2:  # both workers up, not one answering twice
            pids.update(pool.map(_pid_after_a_while, range(4)))


def _pid_after_a_while(_: int) -> int:
    """A job that waits a little, so that both workers take one."""
    time.sleep(0.02)
    return os.getpid()


def _cpu() -> float:
    """CPU seconds of this process and of its children that have ended (the workers)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    done = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + done.ru_utime + done.ru_stime


def main(argv: list[str] | None = None) -> None:
    """Print the table of plan's serial parts."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--tree", default="django")
    args = parser.parse_args(argv)
    # Here, not at the top: a spawned worker imports this module again (the main module).
    from tests.realcode import sdist

    root = sdist(args.tree)
    from tierwise import report
    from tierwise.cli import plan
    from tierwise.cli.sources import iter_sources, resolved_sources
    from tierwise.config import Config
    from tierwise.core.task import Action
    from tierwise.engine import Engine

    with tempfile.TemporaryDirectory() as tmp:
        os.environ["TIERWISE_DATA_DIR"] = tmp
        engine = Engine(Config(), workspace_root=tmp)
        files = resolved_sources(root)
        bar = plan.ProgressBar(len(files), enabled=False)
        actions = [Action.DOCSTRING, Action.REVIEW]
        results = plan.plan_files(engine, files, actions, 2000, bar)
        rows = [row for file_rows, _ in results for row in file_rows]
        summary = report.plan_summary(rows, engine, 1.0)
        lines = list(map(report.plan_line, rows))
        parts: dict[str, Any] = {
            "list: iter_sources, each path resolved": lambda: [
                p.resolve() for p in iter_sources(root)
            ],
            "list: resolved_sources": lambda: resolved_sources(root),
            "start: two spawned workers": lambda: start_workers("spawn", engine),
            "start: two forked workers": lambda: start_workers("fork", engine),
            "table: plan_text of every row at the end": lambda: report.plan_text(rows, summary),
            "table: its lines made as rows came, joined": lambda: report.plan_text(
                rows, summary, lines
            ),
        }
        wall: dict[str, list[float]] = {name: [] for name in parts}
        cpu: dict[str, list[float]] = {name: [] for name in parts}
        for _ in range(args.repeat):  # interleaved: each round runs every part once
            for name, part in parts.items():
                started, used = time.perf_counter(), _cpu()
                part()
                wall[name].append(time.perf_counter() - started)
                cpu[name].append(_cpu() - used)
    names = list(parts)
    title = f"plan's serial parts: {root.name} ({len(files)} files, {len(rows)} rows)"
    for index in range(0, len(names), 2):
        before, after = names[index], names[index + 1]
        print(table(f"{title}, wall", [(after, wall[after]), (before, wall[before])], after))
        rows_cpu = [(after, cpu[after]), (before, cpu[before])]
        print(table("  the same, CPU (this process and its workers)", rows_cpu, after))
        print()


if __name__ == "__main__":
    main()
