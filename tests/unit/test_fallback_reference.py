"""The linear block heuristic gives what the plain, quadratic reading of its rules gives.

`fallback.parse` finds where every block ends with one brace-matching pass and one stack pass
over the indentation, and each definition's parent with a stack. This file re-implements the
rules of fallback.py's docstring the obvious way (count braces forward from each header, scan
forward for the first line indented no deeper, look back through every earlier definition for
the parent, rescan the joined lines for an import's closing parenthesis) and requires the same
spans, parents, kinds and imports on real third-party files: Django's Python modules and its
admin JavaScript (jQuery, select2, XRegExp included), and express, each read as several
languages so that both brace mode and indentation mode run on every shape.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests import realcode
from tierwise.context import fallback
from tierwise.context.languages import indent_of, split_lines
from tierwise.context.lexer import lex

_CLOSER = re.compile(r"^\s*(?:end\w*|fi|done|esac)\b|^\s*\}")
_IMPORT_LINE = re.compile(r"^\s*(?:import|from\s+\S+\s+import|use|using|require|#\s*include)\b")


def _reference_end(code: list[str], start: int, language: str) -> int:
    """Where the block of the header on line `start` ends, by scanning forward from it."""
    if not code[start].rstrip().endswith(":") and language != "python":
        depth, opened = 0, False
        for number in range(start, len(code)):
            if not opened and (number > start + 2 or (number > start and ";" in code[number - 1])):
                break  # no `{` within the header and the next two lines, before any `;`
            for char in code[number]:
                if char == "{":
                    depth, opened = depth + 1, True
                elif char == "}" and opened:
                    depth -= 1
                    if depth == 0:
                        return number
        if opened:
            return len(code) - 1  # never closed
    width = len(indent_of(code[start]))
    last = start
    for number in range(start + 1, len(code)):
        if not code[number].strip():
            continue
        if len(indent_of(code[number])) <= width:
            return number if _CLOSER.match(code[number]) else last
        last = number
    return last


def _reference_imports(lines: list[str], code: list[str]) -> list[tuple[int, int]]:
    """(first line, last line) of every top-level import statement."""
    found = []
    for number in range(len(code)):
        if not _IMPORT_LINE.match(lines[number]) or indent_of(code[number]):
            continue
        end = number
        while "(" in code[number] and ")" not in "".join(code[number : end + 1]):
            end += 1
            if end >= len(lines) - 1:
                break
        found.append((number, end))
    return found


def _compare(source: str, language: str) -> int:
    lines = split_lines(source)
    code = lex(language, source).code.split("\n")
    code += [""] * (len(lines) - len(code))
    parsed = fallback.parse(source, lines, language)
    ends: list[int] = []
    kinds: list[str] = []
    for index, definition in enumerate(parsed.definitions):
        start = definition.span.start_line
        end = _reference_end(code, start, language)
        # The parent: the nearest earlier definition whose block reaches this one's end.
        parent = next((i for i in range(index - 1, -1, -1) if ends[i] >= end), None)
        is_class = definition.kind == "class"
        in_class = parent is not None and kinds[parent] == "class"
        kind = "class" if is_class else ("method" if in_class else "function")
        got = (definition.span.end_line, definition.span.end_col, definition.parent)
        assert got == (end, len(lines[end]), parent), (language, start, definition.name)
        assert definition.kind == kind, (language, start, definition.name)
        ends.append(end)
        kinds.append(kind)
    imports = [(i.span.start_line, i.span.end_line) for i in parsed.imports]
    assert imports == _reference_imports(lines, code), language
    return len(parsed.definitions)


@pytest.fixture(scope="module")
def django() -> Path:
    return realcode.sdist("django")


def test_django_python_modules_as_python_and_as_block_languages(django: Path) -> None:
    files = realcode.python_files(django / "django")[::3]  # a spread sample, for time
    assert len(files) > 250
    total = 0
    for path in files:
        source = path.read_text(encoding="utf-8")
        # As Python (indentation mode only); as Ruby (a `:` header is indentation mode, the
        # other headers look for braces); as Java (C-style headers, `//` comments).
        for language in ("python", "ruby", "java"):
            total += _compare(source, language)
    assert total > 3000  # the sample holds real definitions, not empty files


def test_django_admin_javascript_including_vendored_libraries(django: Path) -> None:
    files = sorted((django / "django/contrib/admin/static").rglob("*.js"))
    files = [p for p in files if not p.name.endswith(".min.js")]
    assert any(p.name == "jquery.js" for p in files)
    total = 0
    for path in files:
        source = path.read_text(encoding="utf-8")
        for language in ("javascript", "c", "ruby"):
            total += _compare(source, language)
    assert total > 1000


def test_express_sources() -> None:
    files = sorted(realcode.npm_package("express").rglob("*.js"))
    assert len(files) > 5
    total = sum(_compare(p.read_text(encoding="utf-8"), "javascript") for p in files)
    assert total > 30


def _regex_name_span(text: str, name: str) -> tuple[int, int] | None:
    match = re.search(r"\b" + re.escape(name) + r"\b", text)
    return (match.start(), match.end()) if match else None


def test_name_spans_match_the_word_boundary_pattern(django: Path) -> None:
    """A definition's name is found with str.find and `re`'s word test (not a pattern compiled
    per name): the same first whole-word occurrence, on every word of real lines, on names
    that start or end with `$` or `:`, and on non-ASCII identifiers."""
    lines = [
        line
        for path in sorted((django / "django/contrib/admin/static").rglob("*.js"))[:20]
        for line in path.read_text(encoding="utf-8").splitlines()
    ]
    lines += ["var $x = $; x$ = $x$ + a$b;", "fn été(étéx: i32) -> été_", "a::b a:: ::b a::bc"]
    compared = found = 0
    for number, text in enumerate(lines):
        words = set(re.findall(r"[\w$]+(?:::[\w$]+)*", text)) | {"$", "$x", "x$", "a::", "::b"}
        for name in words:
            span = fallback._name_span(text, number, name)
            mine = (span.start_col, span.end_col) if span is not None else None
            assert mine == _regex_name_span(text, name), (text, name)
            compared += 1
            found += mine is not None
    assert compared > 5000 and 0 < found < compared
