"""The incremental parse (only the edited statements) gives exactly what a full parse gives.

On real files (Django's 2,038-line schema.py, and more of the sdist): edit after edit, the
spliced ParsedFile must equal a fresh `ast` parse of the new text, and extraction from it the
same CodeContext. The edits are the ones typing makes: a line added, removed or changed inside
a method, a method added at the end of a class, a renamed def, a changed import, blank lines.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from tests.realcode import sdist
from tierwise.context import incremental, python
from tierwise.context.extract import SourceFile, extract, load
from tierwise.context.languages import split_lines

SCHEMA = "django/db/backends/base/schema.py"


@pytest.fixture(scope="module")
def django() -> Path:
    return sdist("django")


def _full(text: str) -> SourceFile:
    file = load("m.py", text)
    assert file.backend == "python"
    return file


def _edit(text: str, rng: random.Random) -> str:
    lines = text.split("\n")
    n = rng.randrange(1, len(lines) - 1)
    indent = lines[n][: len(lines[n]) - len(lines[n].lstrip())]
    kind = rng.choice(["insert", "delete", "change", "call", "method", "blank", "rename"])
    if kind == "insert":
        lines.insert(n, f"{indent}typed_{n} = {n}")
    elif kind == "delete":
        del lines[n]
    elif kind == "change":
        lines[n] = lines[n].replace("self", "this", 1).replace("(", "(  ", 1)
    elif kind == "call":
        lines.insert(n, f"{indent}helper_{n}(value, other.attr)")
    elif kind == "method":
        lines[n:n] = [f"{indent}def added_{n}(self, a):", f"{indent}    return a.run()", ""]
    elif kind == "blank":
        lines.insert(n, "")
    else:
        lines[n] = lines[n].replace("def ", "def renamed_", 1)
    return "\n".join(lines)


def _check_chain(text: str, edits: int, seed: int) -> tuple[int, int]:
    """Apply edits one after another; (edits done incrementally, edits where both parsed)."""
    rng = random.Random(seed)
    current = _full(text)
    fast = compared = 0
    for _ in range(edits):
        new = _edit(current.source, rng)
        if new == current.source:
            continue
        full = load("m.py", new)
        found = incremental.reparse(current.parsed, current.source, current.lines, new)
        if full.backend != "python":  # the edit broke the syntax: nothing to compare
            assert found is None
            continue
        compared += 1
        if found is not None:
            fast += 1
            parsed, lines = found
            assert lines == split_lines(new)
            assert parsed == full.parsed
        current = full
    return fast, compared


def test_edits_to_schema_py_splice_to_the_full_parse(django: Path) -> None:
    text = (django / SCHEMA).read_text(encoding="utf-8")
    fast, compared = _check_chain(text, 100, seed=7)
    assert compared >= 50
    # Most edits of a 2,000-line module are inside one method: they must take the fast path.
    assert fast >= 0.8 * compared


@pytest.mark.parametrize(
    "relative",
    [
        "django/db/models/query.py",
        "django/contrib/admin/options.py",
        "django/utils/html.py",
        "django/template/defaulttags.py",
    ],
)
def test_edits_to_other_django_modules_match(django: Path, relative: str) -> None:
    fast, compared = _check_chain((django / relative).read_text(encoding="utf-8"), 25, seed=3)
    assert fast >= 0.5 * compared


def test_targeted_edits_to_schema_py(django: Path) -> None:
    text = (django / SCHEMA).read_text(encoding="utf-8")
    base = _full(text)
    lines = text.split("\n")
    last_method = max(
        (d for d in base.parsed.definitions if d.kind == "method"), key=lambda d: d.span.start_line
    )
    start, end = last_method.span.start_line, last_method.span.end_line
    cases = {
        # a statement typed on a new line just below the class's last method
        "append to the last method": [*lines[: end + 1], "        return None", *lines[end + 1 :]],
        # a whole new method below the last one
        "new last method": [
            *lines[: end + 1],
            "",
            "    def added(self):",
            "        return self.run()",
            *lines[end + 1 :],
        ],
        "import changed": [line.replace("import logging", "import logging, os") for line in lines],
        "class docstring changed": [
            line.replace("This class and its subclasses", "These classes", 1) for line in lines
        ],
        "decorator added": [*lines[:start], "    @staticmethod", *lines[start:]],
        "method deleted": lines[: last_method.span.start_line] + lines[end + 1 :],
    }
    for label, new_lines in cases.items():
        new = "\n".join(new_lines)
        assert new != text, label
        found = incremental.reparse(base.parsed, text, base.lines, new)
        full = _full(new)
        if found is not None:
            assert found[0] == full.parsed, label
    appended = "\n".join(cases["append to the last method"])
    assert incremental.reparse(base.parsed, text, base.lines, appended) is not None


def test_extraction_from_the_incremental_version_is_the_same(django: Path) -> None:
    text = (django / SCHEMA).read_text(encoding="utf-8")
    base = _full(text)
    method = next(d for d in base.parsed.definitions if d.name == "_field_should_be_altered")
    lines = text.split("\n")
    line = method.span.start_line + 3
    indent = lines[line][: len(lines[line]) - len(lines[line].lstrip())]
    lines.insert(line, f"{indent}self.execute(self.sql_delete_table % {{}})")
    new = "\n".join(lines)
    fast = load(str(django / SCHEMA), new, previous=load(str(django / SCHEMA), text))
    assert fast.backend == "python"
    full = load(str(django / SCHEMA), new)
    assert fast.parsed == full.parsed
    for at in (line, method.span.start_line, method.span.end_line + 5, 0):
        assert extract(fast.path, new, at, 0, parsed=fast) == extract(full.path, new, at, 0)


def test_a_syntax_error_falls_back_to_the_full_parse() -> None:
    text = "class A:\n    def f(self):\n        return 1\n\n    def g(self):\n        return 2\n"
    base = _full(text)
    broken = text.replace("return 1", "return (1")
    assert incremental.reparse(base.parsed, text, base.lines, broken) is None
    assert load("m.py", broken, previous=base).backend == "fallback"


def test_a_method_dedented_out_of_its_class_is_not_spliced() -> None:
    text = "class A:\n    def f(self):\n        return 1\n\n    def g(self):\n        return 2\n"
    base = _full(text)
    moved = text.replace("    def g(self):\n        return 2", "def g(self):\n    return 2")
    found = incremental.reparse(base.parsed, text, base.lines, moved)
    assert found is None or found[0] == python.parse(moved, split_lines(moved))
    assert load("m.py", moved, previous=base).parsed == _full(moved).parsed
