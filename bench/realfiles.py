"""The real files the benchmarks use, fetched at bench time through tests/realcode.py.

Small, medium and large Python modules from pinned sdists (never committed), and the method
each benchmark targets: the last method or function of at least ten lines, so the extractor
has to see (nearly) the whole file before it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import attrs

from tests.realcode import sdist


@attrs.frozen
class RealFile:
    """A real module and the 0-based line inside the function the benchmarks target."""

    label: str
    path: Path
    text: str
    line: int  # a line inside the target's body
    body_indent: str  # the target body's indentation (for inserting an edit)

    @property
    def lines(self) -> int:
        """The file's line count."""
        return self.text.count("\n")


def _target(text: str) -> tuple[int, str]:
    tree = ast.parse(text)
    best: ast.FunctionDef | ast.AsyncFunctionDef | None = None
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            size = (node.end_lineno or node.lineno) - node.lineno
            if size >= 10 and (best is None or node.lineno > best.lineno):
                best = node
    if best is None:
        raise ValueError("no function of ten lines or more")
    first = best.body[-1]
    line = first.lineno - 1
    indent = text.split("\n")[line][: first.col_offset]
    return line, indent


def load(label: str, package: str, relative: str) -> RealFile:
    """One file of a pinned sdist."""
    path = sdist(package) / relative
    text = path.read_text(encoding="utf-8")
    line, indent = _target(text)
    return RealFile(label, path, text, line, indent)


def small() -> RealFile:
    """About 50 lines: requests' _internal_utils.py."""
    return load("50 lines", "requests", "src/requests/_internal_utils.py")


def medium() -> RealFile:
    """About 300 lines: requests' auth.py."""
    return load("300 lines", "requests", "src/requests/auth.py")


def large() -> RealFile:
    """About 2,000 lines: Django's db/backends/base/schema.py (2,038 lines)."""
    return load("2,038 lines", "django", "django/db/backends/base/schema.py")


def mid_large() -> RealFile:
    """About 500 lines: Django's contrib/sessions/backends/base.py (523 lines)."""
    return load("523 lines", "django", "django/contrib/sessions/backends/base.py")


def edited(file: RealFile, n: int) -> str:
    """The file with one new statement typed into the target's body (a new text each n)."""
    lines = file.text.split("\n")
    lines.insert(file.line, f"{file.body_indent}seen_{n} = {n}")
    return "\n".join(lines)
