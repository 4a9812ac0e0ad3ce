"""The Python builder's fast paths give what the plain reading of them gives, on real code.

`python._Builder.build` walks the tree skipping the nodes that hold nothing it collects and
finds each header's colon by scanning after the header's last node; `source.load` pauses the
garbage collector while it parses. This file keeps the walk they replaced (every child of every
node through `ast.iter_child_nodes`, each header tokenized) and requires an equal `ParsedFile`,
every definition's details (span, signature, name span, parameters, return annotation, raises,
docstring slot, parent, owner), every call and name in the same order, and the imports, on
Django's ORM and schema editor, every module of requests and a spread of Django's sources,
plus headers written to be awkward.
"""

from __future__ import annotations

import ast
import gc
import threading
from pathlib import Path

import pytest

from tests import realcode
from tierwise.context import python, source
from tierwise.context.languages import Call, ParsedFile, split_lines
from tierwise.core.records import evolve


class _Reference(python._Builder):
    """The builder as it was before its fast paths (pass 3)."""

    def build(self, tree: ast.Module) -> ParsedFile:
        stack: list[tuple[ast.AST, int | None, ast.AST | None]] = [(tree, None, None)]
        while stack:
            node, parent, parent_node = stack.pop()
            child_parent = parent
            if isinstance(node, python._DEF_NODES):
                self.definitions.append(self._definition(node, parent, parent_node))
                child_parent = len(self.definitions) - 1
                parent_node = node
            elif isinstance(node, ast.Raise):
                self._raise(node, parent, parent_node)
            elif isinstance(node, ast.Call):
                name = python.dotted(node.func)
                if name:
                    line, col = self._pos(node.lineno, node.col_offset)
                    self.calls.append(Call(name, python._root(node.func), line, col))
            elif isinstance(node, ast.Name):
                line, col = self._pos(node.lineno, node.col_offset)
                self.names.append((node.id, line, col))
            if isinstance(node, ast.Lambda):
                child_parent = None
            children = list(ast.iter_child_nodes(node))
            stack.extend((child, child_parent, parent_node) for child in reversed(children))
        definitions = tuple(
            evolve(d, raises=tuple(self.raised[i])) if i in self.raised else d
            for i, d in enumerate(self.definitions)
        )
        return ParsedFile(
            language="python",
            definitions=definitions,
            imports=tuple(self._imports(tree.body)),
            calls=tuple(self.calls),
            names=tuple(self.names),
            module_doc_slot=self._module_doc_slot(tree),
        )

    def _header_end(self, node, name):  # type: ignore[no-untyped-def]
        return self.header_end_by_tokens(node)


def _both(text: str) -> tuple[ParsedFile, ParsedFile]:
    lines = split_lines(text)
    fast = source.load("m.py", text)
    assert fast.backend == "python"
    return fast.parsed, _Reference(lines).build(ast.parse(text))


def _same(text: str) -> int:
    fast, reference = _both(text)
    assert len(fast.definitions) == len(reference.definitions)
    for mine, theirs in zip(fast.definitions, reference.definitions, strict=True):
        assert mine == theirs, f"{theirs.name} at line {theirs.span.start_line + 1}"
    assert fast.calls == reference.calls
    assert fast.names == reference.names
    assert fast == reference
    return len(fast.definitions)


@pytest.fixture(scope="module")
def django() -> Path:
    return realcode.sdist("django")


@pytest.mark.parametrize(
    "relative", ["django/db/models/query.py", "django/db/backends/base/schema.py"]
)
def test_django_modules(django: Path, relative: str) -> None:
    assert _same((django / relative).read_text(encoding="utf-8")) > 50


def test_requests_every_module() -> None:
    root = realcode.sdist("requests")
    files = realcode.python_files(root)
    assert len(files) > 10
    assert sum(_same(f.read_text(encoding="utf-8")) for f in files) > 200


def test_a_spread_of_django(django: Path) -> None:
    files = realcode.python_files(django)[::25]  # every 25th of 2,788 files: all shapes
    assert len(files) > 100
    assert sum(_same(f.read_text(encoding="utf-8")) for f in files) > 500


AWKWARD = '''
import os


def plain(): return 1


def annotated(a: int = 1, *args: "x: y", b: dict[str, int] = {1: 2}, **kw: int) -> "r: s":
    return a


def split(  # a comment: with a colon
    a,  # another: here
    b=lambda x: x[1:2],
) -> int:  # trailing: comment
    pass


def continued(a, \\
        b):
    """Doc: string."""
    raise ValueError(a)


class Empty: pass


def commented(a,  # after the last parameter: a colon
):
    pass


class Bare(  # no base: only a comment
):
    pass


class Based(os.PathLike, metaclass=type):  # note: this
    x: int = 1

    def method(self, key=slice(1, 2)) -> None: ...

    async def later(self, *, when: "a:b" = None):
        raise self.Error from None


class Called():
    def __init__(self): f = lambda: (yield); raise RuntimeError


@decorator(arg=lambda: 1)
def decorated(a=(1,
                 2)):
    pass


def unicode_é(ä: "ö" = "ü") -> "ß:":  # ç: ü
    return ä
'''


def test_awkward_headers() -> None:
    assert _same(AWKWARD) == 14
    fast, _ = _both(AWKWARD)
    by_name = {d.name: d for d in fast.definitions}
    assert by_name["split"].signature.endswith("-> int:")
    assert by_name["annotated"].signature.endswith('-> "r: s":')
    assert by_name["unicode_é"].signature == 'def unicode_é(ä: "ö" = "ü") -> "ß:":'
    assert by_name["plain"].signature == "def plain():"
    assert by_name["commented"].signature.endswith("\n):")
    assert by_name["Bare"].signature.endswith("\n):")


def test_the_collector_is_back_on_after_parses_in_threads() -> None:
    text = AWKWARD * 40
    assert gc.isenabled()
    threads = [threading.Thread(target=source.load, args=("m.py", text)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert gc.isenabled()
    gc.disable()
    try:
        source.load("m.py", text)
        assert not gc.isenabled()  # a collector the caller turned off stays off
    finally:
        gc.enable()
