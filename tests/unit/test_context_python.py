"""Context extraction for Python (the `ast` backend and its fallback for unparseable code)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tierwise.context.extract import extract, extract_all, list_targets, prune
from tierwise.core.code import CodeContext, budget_tokens
from tierwise.core.errors import UsageError

DATA = Path(__file__).resolve().parents[1] / "data"
SERVICE = DATA / "sample_service.py"


def service() -> tuple[str, str, list[str]]:
    source = SERVICE.read_text()
    return str(SERVICE), source, source.split("\n")


def line_of(lines: list[str], needle: str) -> int:
    return next(i for i, line in enumerate(lines) if needle in line)


def test_position_inside_a_method_body_picks_the_method() -> None:
    path, source, lines = service()
    ctx = extract(path, source, line_of(lines, "for row in rows:"), 12)
    target = ctx.target
    assert (target.kind, target.name) == ("method", "find")
    assert target.signature == (
        "async def find(self, email: str, *, active: bool = True) -> Account | None:"
    )
    assert target.params == ("email", "active")
    assert target.returns == "Account | None"
    assert ctx.enclosing == "class AccountService:"
    assert target.text.startswith("async def find(")
    assert target.text.endswith("return None")


def test_decorator_line_belongs_to_the_function() -> None:
    path, source, lines = service()
    decorator = line_of(lines, "@staticmethod")
    ctx = extract(path, source, decorator, 4)
    assert ctx.target.name == "fingerprint"
    assert ctx.target.span.start_line == decorator
    assert ctx.target.text.startswith("@staticmethod\n")
    assert ctx.target.signature == "def fingerprint(raw: bytes) -> str:"
    assert ctx.target.params == ("raw",)  # a staticmethod's first parameter is not a receiver


def test_nested_function_is_the_innermost_target() -> None:
    path, source, lines = service()
    ctx = extract(path, source, line_of(lines, 'raise ValueError("token without subject")'), 16)
    assert (ctx.target.kind, ctx.target.name) == ("function", "_claims")
    assert ctx.target.raises == ("ValueError",)
    assert ctx.enclosing is not None
    assert ctx.enclosing.splitlines() == [
        "class AccountService:",
        "    def decode_session(self, token: str) -> dict:",
    ]
    assert ctx.called_names == ("jwt.decode", "ValueError")


def test_blank_line_between_methods_gives_the_class() -> None:
    path, source, lines = service()
    ctx = extract(path, source, line_of(lines, "def fingerprint") - 2, 0)
    assert (ctx.target.kind, ctx.target.name) == ("class", "AccountService")
    assert ctx.target.doc_slot is not None
    assert ctx.target.doc_slot.existing_text == '"""Loads and updates accounts."""'


def test_outside_every_definition_is_the_module() -> None:
    path, source, lines = service()
    ctx = extract(path, source, line_of(lines, "log = logging.getLogger"), 0)
    assert (ctx.target.kind, ctx.target.name) == ("module", "sample_service")
    assert ctx.target.text == source
    assert ctx.imports == ()  # they are part of the module text already
    slot = ctx.target.doc_slot
    assert slot is not None and slot.existing is not None
    assert slot.existing_text == '"""User accounts: lookup, login and housekeeping."""'


def test_selection_is_the_target_and_named_after_its_function() -> None:
    path, source, lines = service()
    start = line_of(lines, "rows = self.db.execute(")
    end = start + 2
    ctx = extract(path, source, start, 8, end_line=end, end_col=9)
    assert (ctx.target.kind, ctx.target.name) == ("selection", "find")
    assert ctx.target.text == "\n".join([lines[start][8:], lines[start + 1], lines[end][:9]])
    assert ctx.target.signature == ""
    assert set(ctx.called_names) == {"self.db.execute", "text"}
    assert ctx.enclosing is not None and "async def find(" in ctx.enclosing
    assert "from sqlalchemy import text" in ctx.imports


def test_selection_outside_functions_is_named_selection() -> None:
    path, source, lines = service()
    start = line_of(lines, "log = logging.getLogger")
    ctx = extract(path, source, start, 0, end_line=start + 1, end_col=5)
    assert (ctx.target.kind, ctx.target.name) == ("selection", "selection")


def test_empty_selection_is_a_plain_position() -> None:
    path, source, lines = service()
    line = line_of(lines, "for row in rows:")
    ctx = extract(path, source, line, 4, end_line=line, end_col=4)
    assert ctx.target.kind == "method"


def test_imports_callees_and_cross_file_calls() -> None:
    path, source, lines = service()
    ctx = extract(path, source, line_of(lines, "key = normalise_email(email)"), 8)
    assert ctx.callees == ("def normalise_email(email: str) -> str:",)
    assert ctx.called_names == ("normalise_email", "self.db.execute", "text", "Account.from_row")
    # `text` (sqlalchemy) and `Account` (.models) come from other modules; normalise_email and
    # self.db do not.
    assert ctx.cross_file_calls == 2
    assert "from sqlalchemy import text" in ctx.imports
    assert "from .models import Account, AuditLog" in ctx.imports


def test_self_method_calls_resolve_to_same_class_callees() -> None:
    source = (
        "class Repo:\n"
        "    def _load(self, key: str) -> bytes:\n"
        "        return b''\n"
        "\n"
        "    def get(self, key):\n"
        "        return self._load(key) or helper(key)\n"
        "\n"
        "\n"
        "def helper(key):\n"
        "    return key\n"
    )
    ctx = extract("repo.py", source, 5, 10)
    assert ctx.target.name == "get"
    assert ctx.callees == ("def _load(self, key: str) -> bytes:", "def helper(key):")


def test_doc_slot_without_a_docstring() -> None:
    path, source, lines = service()
    def_line = line_of(lines, "def purge_cache(self)")
    slot = extract(path, source, def_line, 4).target.doc_slot
    assert slot is not None
    assert (slot.line, slot.indent, slot.existing) == (def_line + 1, " " * 8, None)


def test_doc_slot_with_a_docstring_covers_it_exactly() -> None:
    path, source, lines = service()
    doc_line = line_of(lines, '"""Return the account for an email address, or None."""')
    slot = extract(path, source, doc_line, 10).target.doc_slot
    assert slot is not None and slot.existing is not None
    assert slot.line == doc_line
    assert slot.indent == " " * 8
    assert slot.existing.start_line == slot.existing.end_line == doc_line
    existing = lines[doc_line][slot.existing.start_col : slot.existing.end_col]
    assert (
        existing == slot.existing_text == '"""Return the account for an email address, or None."""'
    )


def test_multiline_signature_and_one_line_body() -> None:
    source = "def add(\n    a: int,\n    b: int = 2,\n) -> int: return a + b\n"
    target = extract("m.py", source, 1, 0).target
    assert target.signature == "def add(\n    a: int,\n    b: int = 2,\n) -> int:"
    assert target.params == ("a", "b")
    assert target.doc_slot is not None and target.doc_slot.indent == "    "


def test_varargs_and_keyword_only_parameters() -> None:
    source = "def f(a, /, b, *args, c, d=1, **kwargs):\n    pass\n"
    assert extract("m.py", source, 1, 4).target.params == (
        "a",
        "b",
        "*args",
        "c",
        "d",
        "**kwargs",
    )


def test_name_spans_point_at_the_names_even_after_non_ascii_text() -> None:
    source = 'class Café:\n    """Ünïcode."""\n\n    def größe(self) -> int:\n        return 1\n'
    lines = source.split("\n")
    for target in list_targets("cafe.py", source):
        span = target.name_span
        assert span is not None
        assert lines[span.start_line][span.start_col : span.end_col] == target.name


def test_list_targets_and_extract_all_agree() -> None:
    path, source, _ = service()
    targets = list_targets(path, source)
    assert [(t.kind, t.name) for t in targets] == [
        ("class", "Settings"),
        ("function", "normalise_email"),
        ("class", "AccountService"),
        ("method", "__init__"),
        ("method", "fingerprint"),
        ("method", "find"),
        ("method", "decode_session"),
        ("function", "_claims"),
        ("method", "purge_cache"),
    ]
    contexts = extract_all(path, source)
    assert [c.target for c in contexts] == targets


def _tokens(ctx: CodeContext) -> int:
    return budget_tokens(ctx.target.text) + budget_tokens(ctx.render())


def test_a_target_over_the_budget_is_never_cut_and_gets_no_context() -> None:
    path, source, lines = service()
    line = line_of(lines, "for row in rows:")
    full = extract(path, source, line, 0)
    small = extract(path, source, line, 0, budget_tokens=20)
    assert budget_tokens(full.target.text) > 20
    assert small.target == full.target  # the whole method: text and span
    assert (small.imports, small.callees, small.enclosing) == ((), (), None)


def test_pruning_drops_context_but_never_the_target() -> None:
    path, source, lines = service()
    full = extract(path, source, line_of(lines, "for row in rows:"), 0)
    assert full.imports and full.callees and full.enclosing
    pruned = prune(full, budget_tokens(full.target.text) + 1)
    assert pruned.target == full.target
    assert (pruned.imports, pruned.callees, pruned.enclosing) == ((), (), None)
    assert prune(full, 10**6) == full
    partial = prune(full, _tokens(full) - 1)
    assert partial.callees == full.callees[:-1] and partial.imports == full.imports


def test_budget_keeps_the_most_relevant_context_first() -> None:
    path, source, lines = service()
    line = line_of(lines, "for row in rows:")
    full = extract(path, source, line, 0)
    used = ("from sqlalchemy import text", "from .models import Account, AuditLog")
    needed = CodeContext(target=full.target, imports=used, enclosing=full.enclosing)
    ctx = extract(path, source, line, 0, budget_tokens=_tokens(needed))
    assert ctx.enclosing == "class AccountService:"
    assert ctx.imports == used  # the unused imports and the callee no longer fit
    assert ctx.callees == ()
    assert _tokens(ctx) <= _tokens(needed)
    assert len(full.imports) > len(used) and full.callees


def test_unparseable_python_falls_back_to_the_heuristic() -> None:
    source = (DATA / "broken_python.txt").read_text()
    lines = source.split("\n")
    ctx = extract("broken.py", source, line_of(lines, "if result.returncode == 0:"), 8)
    assert (ctx.target.kind, ctx.target.name) == ("function", "unfinished")
    assert ctx.target.params == ("cmd", "retries")
    assert "subprocess.run" in ctx.called_names
    targets = {(t.kind, t.name) for t in list_targets("broken.py", source)}
    assert targets == {
        ("function", "ok"),
        ("function", "unfinished"),
        ("class", "Runner"),
        ("method", "start"),
    }
    start = extract("broken.py", source, line_of(lines, 'return ok("/tmp")'), 8)
    assert start.enclosing == "class Runner:"
    assert start.callees == ("def ok(path):",)


@pytest.mark.parametrize(
    ("line", "col", "fragment"),
    [
        (500, 0, "line 500 is outside"),
        (-1, 0, "line -1 is outside"),
        (0, 999, "column 999 is outside line 0"),
    ],
)
def test_positions_outside_the_file_are_usage_errors(line: int, col: int, fragment: str) -> None:
    path, source, _ = service()
    with pytest.raises(UsageError, match=fragment) as info:
        extract(path, source, line, col)
    assert "0-based" in str(info.value)


def test_selection_end_outside_the_file_is_a_usage_error() -> None:
    path, source, _ = service()
    with pytest.raises(UsageError, match="selection end line 900"):
        extract(path, source, 3, 0, end_line=900, end_col=0)


def test_empty_source_is_a_module() -> None:
    ctx = extract("empty.py", "", 0, 0)
    assert (ctx.target.kind, ctx.target.text) == ("module", "")


def test_windows_line_endings_keep_positions_and_texts_clean() -> None:
    path, source, lines = service()
    crlf = source.replace("\n", "\r\n")
    line = line_of(lines, "shutil.rmtree(")
    ctx = extract(path, crlf, line, 8)
    assert ctx.target.name == "purge_cache"
    assert ctx.target.signature == "def purge_cache(self) -> None:"
    assert "\r" not in ctx.target.text
    assert ctx.target.text == extract(path, source, line, 8).target.text


NESTED = """\
import functools


@functools.lru_cache
def outer(a, b):
    def inner(c):
        return c + a
    return inner(b)
"""


def test_a_range_over_one_definition_or_inside_its_header_means_that_definition() -> None:
    lines = NESTED.split("\n")
    outer_def = line_of(lines, "def outer")
    end = (line_of(lines, "return inner(b)"), len(lines[line_of(lines, "return inner(b)")]))
    # Decorators included or not, trailing whitespace or not: the function.
    for start in ((outer_def - 2, 0), (outer_def - 1, 0), (outer_def, 0)):
        ctx = extract("n.py", NESTED, *start, end_line=end[0], end_col=end[1])
        assert (ctx.target.kind, ctx.target.name) == ("function", "outer"), start
    inner_line = line_of(lines, "def inner")
    name = lines[inner_line].index("inner")
    ctx = extract("n.py", NESTED, inner_line, name, end_line=inner_line, end_col=name + 5)
    assert ctx.target.name == "inner"
    params = lines[outer_def].index("(a, b)")
    ctx = extract("n.py", NESTED, outer_def, params, end_line=outer_def, end_col=params + 6)
    assert ctx.target.name == "outer"
    # One name in the body is the cursor on it; two statements are a selection.
    body = line_of(lines, "return c + a")
    at_c = lines[body].index("c + a")
    assert extract("n.py", NESTED, body, at_c, end_line=body, end_col=at_c + 1).target.name == (
        "inner"
    )
    two = extract("n.py", NESTED, body, 0, end_line=body + 1, end_col=len(lines[body + 1]))
    assert two.target.kind == "selection"
