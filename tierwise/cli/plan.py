"""`tierwise plan`: route every function of a tree, on every core, with a progress bar.

Routing is pure CPU work per file (parse, extract, signals, route), so a tree of thousands of
files is split over worker processes (one per core, up to four), each with its own engine
built from the same configuration; rows come back in file order, exactly as one process would
make them. A small run (few files) stays in this process: starting workers costs more.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Generator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from tierwise import report
from tierwise.cache import plan_rows
from tierwise.cli.common import read_source
from tierwise.core.errors import TierwiseError
from tierwise.core.task import Action

# Fewer files than this are planned in this process; workers take a few hundred ms to start.
PARALLEL_FROM_FILES = 40
CHUNK_FILES = 8  # files per job: small enough for a smooth bar, large enough to amortise
MAX_WORKERS = 4
BAR_AFTER_S = 1.0  # runs shorter than this show no bar at all
BAR_WIDTH = 24
# Fresh rows are remembered this many files at a time while the workers run (all at the end,
# the write was the run's last 0.1 s).
REMEMBER_EVERY = 500

FileResult = tuple[list[dict[str, Any]], list[str]]  # rows, warnings

_engine: Any = None  # the worker process's engine (built once by _start_worker)
_decider: Any = None  # and the routes it shares between its files' rows


def plan_file(engine: Any, path: Path, actions: list[Action], budget: int) -> FileResult:
    """The plan rows of one file, and warnings for what could not be routed."""
    return _plan_file(engine, _decider_of(engine), path, actions, budget, None)[0]


def _decider_of(engine: Any) -> Any:
    """A Decider for the engine's policy and tiers (routes shared by one run's rows)."""
    from tierwise.routing.batch import Decider

    return Decider(engine.policy, engine.pricing.availability)


def _plan_file(
    engine: Any, decider: Any, path: Path, actions: list[Action], budget: int, salt: bytes | None
) -> tuple[FileResult, str | None]:
    """The rows of one file, and with a salt the key they are remembered under (None when
    they must not be: the file was skipped)."""
    from tierwise.context.source import gc_paused

    with gc_paused():
        return _rows_of_file(engine, decider, path, actions, budget, salt)


def _rows_of_file(
    engine: Any, decider: Any, path: Path, actions: list[Action], budget: int, salt: bytes | None
) -> tuple[FileResult, str | None]:
    from tierwise.context.extract import extract_all
    from tierwise.context.plan_walk import load_for_plan
    from tierwise.core.code import budget_tokens
    from tierwise.routing.signals import file_signals

    rows: list[dict[str, Any]] = []
    warnings: list[str] = []
    if engine.is_excluded(str(path)):
        return (rows, warnings), None
    try:
        raw = path.read_bytes() if salt is not None else None
        source = read_source(path)
        engine.check_size(str(path), source)
    except (OSError, TierwiseError) as exc:
        return (rows, [f"{path}: skipped: {exc}"]), None
    shown = report.display_path(path)  # every row of the file shows it
    file = load_for_plan(str(path), source)
    contexts = extract_all(str(path), source, budget_tokens=budget, parsed=file)
    # The signals of every target at once (one lex of the file), each used by every action;
    # each task is sized once, so nothing is kept for a second ask; the decider shares the
    # rules' choice between rows that give them the same input.
    for ctx, signals in zip(contexts, file_signals(contexts, file.lines), strict=True):
        target = ctx.target
        size = budget_tokens(target.text)
        for action in actions:
            try:
                task = engine.task_for(action, ctx, source=source)
                state = engine.route_state(task, signals, assume_available=True)
                tokens = engine.token_estimate(task, size)
                routed = decider.route(task, signals, state, tokens)
                # On local only because plan assumes one: also without it (the summary's line)
                bare = decider.without_local(routed, task, signals, state, tokens)
            except TierwiseError as exc:
                warnings.append(f"{path}:{target.span.start_line + 1}: {exc}")
                continue
            rows.append(report.plan_row(path, target, routed, shown, bare))
    key = plan_rows.file_key(salt, str(path), raw) if salt is not None and raw else None
    return (rows, warnings), key


def _start_worker(config: Any, workspace_root: str | None, held: Any) -> None:
    global _engine, _decider
    from tierwise.engine import Engine

    # A forked worker inherits asyncio's Ctrl-C handler (it would cancel a copy of the
    # parent's task and go on): Ctrl-C stops a worker, as it stops a spawned one.
    signal.signal(signal.SIGINT, signal.default_int_handler)

    _engine = Engine(config, workspace_root=workspace_root)
    _engine.stores.held = held  # the parent's one read of the ledger
    _decider = _decider_of(_engine)


def _plan_chunk(
    paths: list[Path], actions: list[Action], budget: int, salt: bytes | None = None
) -> list[tuple[str, str | None]]:
    """Each file's result as the JSON text the memory keeps, and its key: the parent reads
    the rows from it and keeps the text as it is (dumping 81,280 rows was the parent's last
    0.25 s, after the workers had finished)."""
    return [
        (plan_rows.dumps(result), key)
        for result, key in (
            _plan_file(_engine, _decider, path, actions, budget, salt) for path in paths
        )
    ]


def _chunks(paths: list[Path]) -> Iterator[list[Path]]:
    for start in range(0, len(paths), CHUNK_FILES):
        yield paths[start : start + CHUNK_FILES]


def remembered_salt(engine: Any, actions: list[Action], budget: int) -> bytes | None:
    """The salt of this run's remembered rows, or None when rows from an earlier run could
    differ from a fresh plan: spend caps (today's spend routes), or requests within the
    escalation window (an earlier ask escalates)."""
    policy = engine.policy
    if policy.daily_usd > 0 or policy.monthly_usd > 0 or policy.team_daily_usd > 0:
        return None
    ledger = engine.ledger
    since = datetime.now(UTC) - timedelta(seconds=policy.escalate_window_s)
    if ledger is not None and ledger.any_request_since(since):
        return None
    return plan_rows.salt(
        repr(engine.config),
        str(engine.workspace_root),
        os.getcwd(),  # rows show paths relative to it
        ",".join(a.value for a in actions),
        str(budget),
    )


def plan_files(
    engine: Any,
    files: list[Path],
    actions: list[Action],
    budget: int,
    bar: ProgressBar,
    *,
    parallel_from: int = PARALLEL_FROM_FILES,
    memory: plan_rows.PlanRows | None = None,
    remember_every: int = REMEMBER_EVERY,
) -> Generator[FileResult, None, None]:
    """Every file's result, in order; on several processes from `parallel_from` files.

    With `memory`, a file whose key was remembered is not planned again, and the new
    results are remembered as they come, `remember_every` files at a time. The ledger's
    earlier asks (escalation) are read once, at the start: the run routes as of that moment.
    """
    stores = engine.stores
    held_before = stores.held
    since = datetime.now(UTC) - timedelta(seconds=engine.policy.escalate_window_s)
    stores.held = stores.read_asks(since)
    try:
        yield from _plan_files(
            engine, files, actions, budget, bar, parallel_from, memory, remember_every
        )
    finally:
        stores.held = held_before


def _plan_files(
    engine: Any,
    files: list[Path],
    actions: list[Action],
    budget: int,
    bar: ProgressBar,
    parallel_from: int,
    memory: plan_rows.PlanRows | None,
    remember_every: int,
) -> Iterator[FileResult]:
    salt = remembered_salt(engine, actions, budget) if memory is not None else None
    known: dict[int, FileResult] = {}
    if memory is not None and salt is not None:
        keys: dict[int, str] = {}
        for index, path in enumerate(files):
            with contextlib.suppress(OSError):
                keys[index] = plan_rows.file_key(salt, str(path), path.read_bytes())
        found = memory.get_many(keys.values())
        known = {i: found[k] for i, k in keys.items() if k in found}
    todo = [path for index, path in enumerate(files) if index not in known]
    fresh: list[tuple[str, str]] = []
    planned = _planned(engine, todo, actions, budget, salt, parallel_from)
    for index in range(len(files)):
        if index in known:
            result = known[index]
        else:
            result, text, key = next(planned)
            if key is not None:
                fresh.append((key, text if text is not None else plan_rows.dumps(result)))
                if len(fresh) >= remember_every and memory is not None:
                    memory.put_texts(fresh)
                    fresh = []
        bar.update(index + 1)
        yield result
    if memory is not None and fresh:
        memory.put_texts(fresh)


def _planned(
    engine: Any,
    files: list[Path],
    actions: list[Action],
    budget: int,
    salt: bytes | None,
    parallel_from: int,
) -> Iterator[tuple[FileResult, str | None, str | None]]:
    """Results of the files to plan, in order (lazily: the bar follows them), each with its
    JSON text when a worker made it, and its key."""
    workers = min(MAX_WORKERS, os.cpu_count() or 1)
    if workers < 2 or len(files) < parallel_from:
        decider = _decider_of(engine)
        for path in files:
            result, key = _plan_file(engine, decider, path, actions, budget, salt)
            yield result, None, key
        return
    with concurrent.futures.ProcessPoolExecutor(
        workers,
        mp_context=_pool_context(),
        initializer=_start_worker,
        initargs=(engine.config, engine.workspace_root, engine.stores.held),
    ) as pool:
        chunks = list(_chunks(files))
        n = len(chunks)
        for results in pool.map(_plan_chunk, chunks, [actions] * n, [budget] * n, [salt] * n):
            for text, key in results:
                yield plan_rows.loads(text), text, key


def _pool_context() -> Any:
    """Fork on Linux while this process runs no other thread, else spawn.

    A spawned worker imported tierwise again before its first file (about 0.3 s each, the
    first chunk waiting on it) and tore its heap down at the end; a forked one starts with
    the parent's modules and leaves through os._exit. Each still builds its own engine (no
    database connection crosses the fork). With another thread running, a lock it holds
    would stay held in the child, so spawn then, and where fork is not the safe default.
    """
    if sys.platform == "linux" and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


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
