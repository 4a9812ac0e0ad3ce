"""One parsed version of a file (`SourceFile`) and how it is made (`load`): `ast` for Python,
tree-sitter for the bundled grammars, the fallback block heuristic for anything else, and for
a new version of a Python file, only the statements an edit touched (context/incremental.py).
"""

from __future__ import annotations

import contextlib
import gc
import operator
import threading
from collections.abc import Iterator
from typing import Any

from tierwise.context import fallback, grammars, incremental, python, treesitter
from tierwise.context.languages import ParsedFile, language_for, split_lines
from tierwise.core.records import FrozenRecord, setfield


class SourceFile(FrozenRecord):
    """One parsed version of a file, shared by every extraction from it (the engine keeps
    recent ones, so cursor moves do not re-parse and edits re-parse only what changed)."""

    __slots__ = ("path", "source", "language", "lines", "parsed", "backend", "memo")
    path: str
    source: str
    language: str
    lines: list[str]
    parsed: ParsedFile
    backend: str  # "python" (ast), "treesitter" or "fallback"
    # Positional indexes of calls and names (see _in_span) and contexts, built on first use:
    # left out of equality and repr.
    memo: dict[Any, Any]

    def __init__(
        self,
        path: str,
        source: str,
        language: str,
        lines: list[str],
        parsed: ParsedFile,
        backend: str = "fallback",
        memo: dict[Any, Any] | None = None,
    ) -> None:
        setfield(self, "path", path)
        setfield(self, "source", source)
        setfield(self, "language", language)
        setfield(self, "lines", lines)
        setfield(self, "parsed", parsed)
        setfield(self, "backend", backend)
        setfield(self, "memo", {} if memo is None else memo)

    # Equality leaves the memo out (records.Record reads the compared fields through this).
    _fields_of = staticmethod(  # type: ignore[assignment]
        operator.attrgetter("path", "source", "language", "lines", "parsed", "backend")
    )

    def __repr__(self) -> str:
        shown = ", ".join(f"{n}={getattr(self, n)!r}" for n in self.__slots__[:-1])
        return f"SourceFile({shown})"


_GC_LOCK = threading.Lock()
_gc_pauses = [0, False]  # parses under way, and whether the collector was enabled before them


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """The cyclic garbage collector off while a parse runs (threads share one count).

    A parse allocates hundreds of thousands of objects that all live until it ends: each
    allocation burst starts a collection that walks them again, half of an `ast.parse` of a
    1 MB module (0.55 s with the collector, 0.27 s without, measured here). Nothing a parse
    makes is cyclic garbage, so pausing loses nothing; the collector is back on after it.
    """
    with _GC_LOCK:
        if _gc_pauses[0] == 0:
            _gc_pauses[1] = gc.isenabled()
            gc.disable()
        _gc_pauses[0] += 1
    try:
        yield
    finally:
        with _GC_LOCK:
            _gc_pauses[0] -= 1
            if _gc_pauses[0] == 0 and _gc_pauses[1]:
                gc.enable()


def load(path: str, source: str, previous: SourceFile | None = None) -> SourceFile:
    """Parse a file once for any number of extractions.

    With the previous version of the same Python file, only the statements the edit touched
    are parsed again (context/incremental.py); the result is the same as a full parse.
    """
    with gc_paused():
        return _load(path, source, previous)


def _load(path: str, source: str, previous: SourceFile | None) -> SourceFile:
    language = language_for(path)
    if previous is not None and previous.backend == "python" and previous.path == path:
        if previous.source == source:
            return previous
        found = incremental.reparse(previous.parsed, previous.source, previous.lines, source)
        if found is not None:
            return SourceFile(path, source, language, found[1], found[0], "python")
    lines = split_lines(source)
    parsed: ParsedFile | None = None
    backend = "fallback"
    if language == "python":
        parsed = python.parse(source, lines)
        backend = "python"
    elif language in grammars.LANGUAGES:
        parsed = treesitter.parse(language, source, lines)
        backend = "treesitter"
    if parsed is None:
        parsed = fallback.parse(source, lines, language)
        backend = "fallback"
    return SourceFile(path, source, language, lines, parsed, backend)
