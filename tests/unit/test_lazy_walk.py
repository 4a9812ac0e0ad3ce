"""A big file's lazy parse (context/lazy.py) gives exactly what the full walk gives.

The lazy form leaves calls and names out and records the top-level blocks; a request walks the
blocks its span touches. On real files (Django's schema.py, every module of requests and flask)
and on corner cases, it must give the full walk's definitions, imports and module docstring slot,
all blocks walked in order must be the full walk's calls and names, every span's calls and
names (definitions and arbitrary selections) must be the full walk's, extraction through it the
same CodeContext, and an edit spliced into it (context/incremental.py) a fresh lazy parse.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from tests.realcode import sdist
from tests.unit.test_incremental import _edit
from tierwise.config import Config
from tierwise.context import gather, incremental, lazy, python
from tierwise.context.extract import SourceFile, extract, extract_all, load
from tierwise.context.languages import split_lines
from tierwise.core.code import Span
from tierwise.core.records import evolve
from tierwise.core.task import Action
from tierwise.engine import Engine

SCHEMA = "django/db/backends/base/schema.py"

CORNERS = '''import os, sys
from typing import (
    Any,
)
x = os.getcwd(); y = sys.argv[0]
total = sum(len(a) for a in [x, y]); name = "é" + str(x)


@decorate(os.sep)
@other(lambda q: q.strip())
def first(a, b=len(x)):
    """Doc."""
    return helper(a) + b + len(name)


class Outer(Base, metaclass=Meta):
    attr = compute(y)

    class Inner:
        def method(self):
            return self.value(total)

    @property
    def prop(self) -> Any:
        return Outer.Inner().method()


def helper(v):
    if v:
        raise ValueError(v)
    return [w for w in map(str, v)]


if sys.version_info >= (3, 10):
    def late():
        return first(1)
else:
    late = lambda: helper(0)

try:
    import json
except ImportError:
    json = None
match sys.argv:
    case [_, *rest]:
        def matched():
            return rest.pop()
    case _:
        pass
result = late(); print(result, json.dumps(x))'''


def _lazy(path: str, text: str) -> SourceFile:
    lines = split_lines(text)
    tree = python.parse_tree(text)
    assert tree is not None
    return SourceFile(path, text, "python", lines, lazy.build_lazy(tree, lines), "python")


def _spans(file: SourceFile, rng: random.Random, count: int) -> list[Span]:
    """Every definition's span, the whole file, and selections from anywhere to anywhere."""
    lines = file.lines
    spans = [d.span for d in file.parsed.definitions]
    spans.append(Span(0, 0, len(lines) - 1, len(lines[-1])))
    for _ in range(count):
        a, b = sorted(rng.randrange(len(lines)) for _ in range(2))
        spans.append(Span(a, rng.randrange(len(lines[a]) + 1), b, rng.randrange(len(lines[b]) + 1)))
    return spans


def _check(path: str, text: str, *, extractions: int = 40) -> None:
    full = load(path, text)
    lazy_file = _lazy(path, text)
    assert full.backend == "python" and full.parsed.blocks is None
    parsed = lazy_file.parsed
    assert parsed.blocks is not None and parsed.calls == () and parsed.names == ()
    assert evolve(parsed, blocks=None) == evolve(full.parsed, calls=(), names=())
    calls: list[object] = []
    names: list[object] = []
    for block in parsed.blocks:
        found = lazy.block_items(lazy_file.lines, block)
        assert found is not None, block
        calls += found[0]
        names += found[1]
    assert tuple(calls) == full.parsed.calls
    assert tuple(names) == full.parsed.names
    for span in _spans(full, random.Random(len(text)), 60):
        for kind in ("calls", "names"):
            assert gather._in_span(lazy_file, kind, span) == gather._in_span(full, kind, span)
    assert "walked" not in lazy_file.memo  # every block parsed alone: no whole-file walk
    step = max(1, len(parsed.definitions) // extractions)
    for definition in parsed.definitions[::step]:
        line = definition.span.start_line
        assert extract(path, text, line, parsed=lazy_file) == extract(path, text, line, parsed=full)
    last = len(full.lines) - 1
    for line, col, end in [(0, 0, None), (last, 0, None), (0, 0, (last, len(full.lines[last])))]:
        end_line, end_col = end if end is not None else (None, None)
        here = extract(path, text, line, col, end_line=end_line, end_col=end_col, parsed=full)
        there = extract(path, text, line, col, end_line=end_line, end_col=end_col, parsed=lazy_file)
        assert there == here


def test_schema_py_lazy_equals_the_full_walk() -> None:
    path = sdist("django") / SCHEMA
    _check(str(path), path.read_text(encoding="utf-8"), extractions=200)


@pytest.mark.parametrize("package", ["requests", "flask"])
def test_every_module_of_a_package_lazy_equals_the_full_walk(package: str) -> None:
    files = sorted(sdist(package).rglob("*.py"))
    assert len(files) >= 15
    for path in files:
        _check(str(path), path.read_text(encoding="utf-8"), extractions=10)


def test_corner_cases_lazy_equal_the_full_walk() -> None:
    """Decorators with calls and lambdas, nested classes, statements sharing a line, imports
    under try, definitions under if and match, non-ASCII columns, names used across blocks,
    targets on the first and the last line, and the same text with \\r\\n breaks."""
    _check("corners.py", CORNERS)
    _check("corners.py", CORNERS.replace("\n", "\r\n"))
    blocks = _lazy("corners.py", CORNERS).parsed.blocks
    assert blocks is not None and (4, 4) in blocks and blocks[-1][0] == blocks[-1][1]
    first = extract("corners.py", CORNERS, 11, parsed=_lazy("corners.py", CORNERS))
    assert "helper" in first.called_names and first.target.name == "first"


def test_a_block_that_does_not_parse_alone_falls_back_to_the_whole_walk() -> None:
    """Blocks that cut a statement (`from typing import (` without its end) make the span's
    calls and names come from one walk of the whole file, equal to the full walk's."""
    full = load("corners.py", CORNERS)
    good = _lazy("corners.py", CORNERS)
    assert good.parsed.blocks is not None
    cut = ((0, 0), (1, 2), *good.parsed.blocks[2:])
    assert lazy.block_items(good.lines, (1, 2)) is None
    assert lazy.block_items(good.lines, (0, 1)) is None  # parses, but is not one block
    broken = SourceFile(
        "corners.py", CORNERS, "python", good.lines, evolve(good.parsed, blocks=cut), "python"
    )
    for span in _spans(full, random.Random(5), 30):
        for kind in ("calls", "names"):
            assert gather._in_span(broken, kind, span) == gather._in_span(full, kind, span)
    assert "walked" in broken.memo
    assert extract_all("corners.py", CORNERS, parsed=broken) == extract_all(
        "corners.py", CORNERS, parsed=full
    )


def test_edits_to_a_lazy_schema_py_splice_to_a_fresh_lazy_parse() -> None:
    text = (sdist("django") / SCHEMA).read_text(encoding="utf-8")
    rng = random.Random(11)
    current = _lazy("m.py", text)
    fast = compared = 0
    for _ in range(80):
        new = _edit(current.source, rng)
        if new == current.source or python.parse_tree(new) is None:
            continue
        compared += 1
        fresh = _lazy("m.py", new)
        found = incremental.reparse(current.parsed, current.source, current.lines, new)
        if found is not None:
            fast += 1
            parsed, lines = found
            assert lines == fresh.lines
            assert parsed == fresh.parsed
            spliced = SourceFile("m.py", new, "python", lines, parsed, "python")
            line = rng.randrange(len(lines))
            assert extract("m.py", new, line, parsed=spliced) == extract("m.py", new, line)
        current = fresh
    assert compared >= 40 and fast >= 0.8 * compared


def test_the_server_engine_parses_big_files_lazily_apart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TIERWISE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("TIERWISE_CACHE_DIR", str(tmp_path / "cache"))
    path = str(sdist("django") / SCHEMA)
    source = Path(path).read_text(encoding="utf-8")
    line = source.split("\n").index("    def _field_indexes_sql(self, model, field):") + 1
    apart = Engine(Config(), workspace_root=str(tmp_path), parse_apart=True)
    here = Engine(Config(), workspace_root=str(tmp_path))
    assert apart.apart is not None
    apart.apart.min_chars = apart.apart.lazy_chars = len(source) - 100  # this file is big
    try:
        task = apart.build_task(Action.REVIEW, path, source, line, 8)
        assert apart.files.get(path, source).parsed.blocks is not None  # the lazy form
        assert task.context == here.build_task(Action.REVIEW, path, source, line, 8).context
        edited = source.replace("model, field):", "model, field, extra=None):", 1)
        again = apart.build_task(Action.REVIEW, path, edited, line, 8)
        assert apart.files.get(path, edited).parsed.blocks is not None  # spliced, still lazy
        assert again.context == here.build_task(Action.REVIEW, path, edited, line, 8).context
    finally:
        apart.apart.close()
