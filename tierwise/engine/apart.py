"""Parsing a big file in a separate process, so the server's threads keep the GIL.

One `ast.parse` is a single C call that holds the GIL from start to end: 0.7 s for a 1 MB
module here, during which the event loop answers nothing (bench/hostile.py measured pings
delayed by 1.5 s). In a child process it holds that process's GIL instead; the server only
unpickles the result, which leaves the calls and names out (context/lazy.py). Only a full
parse of a big file goes there: an edit is re-parsed in-process, statement by statement
(context/incremental.py), which is fast at any size.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from tierwise.context.languages import language_for, split_lines
from tierwise.context.lazy import LAZY_CHARS
from tierwise.context.parse_child import parse_in_child
from tierwise.context.source import SourceFile, gc_paused

if TYPE_CHECKING:
    import concurrent.futures

# multiprocessing, concurrent.futures and logging are imported on the first big file only:
# together they were a sixth of `tierwise route`'s start-up, for a file it rarely sees.

# Texts from this many characters on are parsed apart: below, the parse is shorter than the
# process hop (a 250 KB module parses in about 0.15 s here).
APART_CHARS = 250_000


class ApartParser:
    """A one-process pool, started on the first big file and kept for the next ones."""

    def __init__(self, min_chars: int = APART_CHARS, lazy_chars: int = LAZY_CHARS) -> None:
        self.min_chars = min_chars
        self.lazy_chars = lazy_chars  # from this size on, calls and names are left out
        self._pool: concurrent.futures.ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def wants(self, path: str, source: str) -> bool:
        """Whether this text is big enough (and Python: the others have no C-level parse)."""
        return len(source) >= self.min_chars and language_for(path) == "python"

    def parse(self, path: str, source: str) -> SourceFile | None:
        """The full parse of the text, done in the child; None if the child failed."""
        pool: concurrent.futures.ProcessPoolExecutor | None = None
        try:
            with self._lock:
                if self._pool is None:
                    # spawn, not fork: the server has threads, and a forked child may inherit
                    # a lock another thread held.
                    import concurrent.futures
                    import multiprocessing

                    context = multiprocessing.get_context("spawn")
                    self._pool = concurrent.futures.ProcessPoolExecutor(1, mp_context=context)
                pool = self._pool
            data = pool.submit(parse_in_child, path, source, self.lazy_chars).result()
            import pickle

            with gc_paused():
                parsed, backend = pickle.loads(data)
        except Exception as exc:  # no process, a broken pool, a child out of memory: parse here
            import logging

            logging.getLogger("tierwise.engine").warning(
                "parsing %s in a separate process failed (%s): parsing here", path, exc
            )
            with self._lock:
                if self._pool is pool:
                    self._pool = None
            if pool is not None:
                pool.shutdown(wait=False, cancel_futures=True)
            return None
        return SourceFile(path, source, language_for(path), split_lines(source), parsed, backend)

    def close(self) -> None:
        """Stop the child process, if one was started."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
