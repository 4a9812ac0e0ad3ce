"""`tierwise plan`: route every function of a tree, on every core, with a progress bar.

Routing is pure CPU work per file (parse, extract, signals, route), so a tree of thousands of
files is split over worker processes (one per core, up to four), each with its own engine
built from the same configuration; rows come back in file order, exactly as one process would
make them. A small run (few files) stays in this process: starting workers costs more.
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

from tierwise import report
from tierwise.cli.common import read_source
from tierwise.core.errors import TierwiseError
from tierwise.core.task import Action

# Fewer files than this are planned in this process; workers take a few hundred ms to start.
PARALLEL_FROM_FILES = 40
CHUNK_FILES = 8  # files per job: small enough for a smooth bar, large enough to amortise
MAX_WORKERS = 4
BAR_AFTER_S = 1.0  # runs shorter than this show no bar at all
BAR_WIDTH = 24

FileResult = tuple[list[dict[str, Any]], list[str]]  # rows, warnings

_engine: Any = None  # the worker process's engine (built once by _start_worker)


def plan_file(engine: Any, path: Path, actions: list[Action], budget: int) -> FileResult:
    """The plan rows of one file, and warnings for what could not be routed."""
    from tierwise.context.extract import extract_all

    rows: list[dict[str, Any]] = []
    warnings: list[str] = []
    if engine.is_excluded(str(path)):
        return rows, warnings
    try:
        source = read_source(path)
        engine.check_size(str(path), source)
    except TierwiseError as exc:
        return rows, [f"{path}: skipped: {exc}"]
    for ctx in extract_all(str(path), source, budget_tokens=budget):
        target = ctx.target
        for action in actions:
            try:
                task = engine.task_for(action, ctx)
                decision = engine.decide(task, assume_available=True)
            except TierwiseError as exc:
                warnings.append(f"{path}:{target.span.start_line + 1}: {exc}")
                continue
            rows.append(report.plan_row(path, target, decision))
    return rows, warnings


def _start_worker(config: Any, workspace_root: str | None) -> None:
    global _engine
    from tierwise.engine import Engine

    _engine = Engine(config, workspace_root=workspace_root)


def _plan_chunk(paths: list[Path], actions: list[Action], budget: int) -> list[FileResult]:
    return [plan_file(_engine, path, actions, budget) for path in paths]


def _chunks(paths: list[Path]) -> Iterator[list[Path]]:
    for start in range(0, len(paths), CHUNK_FILES):
        yield paths[start : start + CHUNK_FILES]


def plan_files(
    engine: Any,
    files: list[Path],
    actions: list[Action],
    budget: int,
    bar: ProgressBar,
    *,
    parallel_from: int = PARALLEL_FROM_FILES,
) -> Iterator[FileResult]:
    """Every file's result, in order; on several processes from `parallel_from` files."""
    workers = min(MAX_WORKERS, os.cpu_count() or 1)
    if workers < 2 or len(files) < parallel_from:
        for done, path in enumerate(files, 1):
            yield plan_file(engine, path, actions, budget)
            bar.update(done)
        return
    context = multiprocessing.get_context("spawn")  # no inherited event loop or threads
    with concurrent.futures.ProcessPoolExecutor(
        workers,
        mp_context=context,
        initializer=_start_worker,
        initargs=(engine.config, engine.workspace_root),
    ) as pool:
        chunks = list(_chunks(files))
        done = 0
        for chunk, results in zip(
            chunks,
            pool.map(_plan_chunk, chunks, [actions] * len(chunks), [budget] * len(chunks)),
            strict=True,
        ):
            done += len(chunk)
            bar.update(done)
            yield from results


class ProgressBar:
    """`plan [████░░░░] 1,204/2,788 files · 410 files/s · 4 s left` on stderr.

    Only on a terminal (a pipe or a log file gets no carriage-return noise), and only once
    the run has lasted BAR_AFTER_S, so quick plans print nothing extra.
    """

    def __init__(
        self,
        total: int,
        stream: TextIO | None = None,
        *,
        enabled: bool = True,
        after_s: float = BAR_AFTER_S,
    ) -> None:
        self.total = total
        self.stream = stream or sys.stderr
        self.enabled = enabled and self.stream.isatty()
        self.after_s = after_s
        self.started = time.perf_counter()
        self.shown = False

    def update(self, done: int) -> None:
        """Redraw with `done` files finished (after the first second)."""
        if not self.enabled:
            return
        elapsed = time.perf_counter() - self.started
        if elapsed < self.after_s and done < self.total:
            return
        self.shown = True
        self.stream.write("\r" + self.line(done, elapsed))
        self.stream.flush()

    def line(self, done: int, elapsed: float) -> str:
        """The bar's text for `done` files after `elapsed` seconds."""
        share = done / self.total if self.total else 1.0
        filled = round(share * BAR_WIDTH)
        rate = done / elapsed if elapsed > 0 else 0.0
        left = (self.total - done) / rate if rate > 0 else 0.0
        bar = "█" * filled + "░" * (BAR_WIDTH - filled)
        return (
            f"plan [{bar}] {done:,}/{self.total:,} files · {rate:,.0f} files/s"
            f" · {left:,.0f} s left\033[K"
        )

    def close(self) -> None:
        """Erase the bar (the table follows on stdout)."""
        if self.shown:
            self.stream.write("\r\033[K")
            self.stream.flush()
