"""The static docstring tier on real, documented code (Django, Flask, requests sdists).

A hand-written docstring is the user's work: after the static action every documented function
keeps every sentence of its docstring, and the rest of the file is untouched. Where the static
tier cannot know something (what a return value means), it writes a placeholder that reads as
one, never a guess.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import realcode
from tierwise.context.extract import extract, extract_all
from tierwise.core.code import CodeContext
from tierwise.core.results import DocstringResult
from tierwise.core.task import Action, Task
from tierwise.edits import apply_text_edit
from tierwise.handlers import docstring_words
from tierwise.handlers.docstring import handler

# Enough modules for a few hundred documented functions in several docstring styles.
SOURCES = {
    "django": [
        "django/contrib/auth/hashers.py",
        "django/utils/text.py",
        "django/utils/http.py",
        "django/core/paginator.py",
        "django/db/models/query_utils.py",
    ],
    "flask": ["src/flask/app.py", "src/flask/helpers.py", "src/flask/config.py"],
    "requests": ["src/requests/utils.py", "src/requests/sessions.py", "src/requests/models.py"],
}


def sentences(text: str) -> list[str]:
    """The sentences of a docstring, whitespace collapsed (a line break is not a boundary, but a
    blank line, a reST field or a JSDoc tag starts a new paragraph)."""
    paragraphs = re.split(r"\n\s*\n|\n(?=\s*[:@])", text)
    out: list[str] = []
    for paragraph in paragraphs:
        flat = " ".join(paragraph.split())
        out += [s for s in re.split(r"(?<=[.!?])\s+", flat) if s]
    return out


def is_subsequence(short: list[str], long: list[str]) -> bool:
    rest = iter(long)
    return all(any(line == other for other in rest) for line in short)


def documented(package: str) -> Iterator[tuple[Path, str, CodeContext]]:
    root = realcode.sdist(package)
    for relative in SOURCES[package]:
        path = root / relative
        source = path.read_text(encoding="utf-8")
        for ctx in extract_all(str(path), source):
            slot = ctx.target.doc_slot
            if ctx.target.kind in ("function", "method") and slot and slot.existing:
                yield path, source, ctx


def static(ctx: CodeContext, style: str = "google") -> DocstringResult:
    result = handler.run_static(Task(Action.DOCSTRING, ctx, options={"style": style}))
    assert isinstance(result, DocstringResult)
    return result


def function_at(tree: ast.AST, name: str, line: int) -> ast.FunctionDef | ast.AsyncFunctionDef:
    return next(
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.name == name
        and min([node.lineno, *(d.lineno for d in node.decorator_list)]) == line
    )


def without_docstring(tree: ast.Module, node: ast.AST) -> str:
    assert isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    first = node.body[0]
    assert isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
    first.value.value = ""
    return ast.dump(tree)


@pytest.mark.parametrize("package", list(SOURCES))
@pytest.mark.parametrize("style", ["google", "numpy"])
def test_every_documented_function_keeps_every_sentence(package: str, style: str) -> None:
    checked = updated = 0
    for path, source, ctx in documented(package):
        target = ctx.target
        before = ast.get_docstring(
            function_at(ast.parse(source), target.name, target.span.start_line + 1)
        )
        assert before is not None
        result = static(ctx, style)
        assert result.existing, f"{path}:{target.name}: an update must say so"
        checked += 1
        if result.edit is None:
            assert result.note, f"{path}:{target.name}: nothing to add must say why"
            continue
        updated += 1
        edited = apply_text_edit(source, result.edit)
        tree = ast.parse(edited)
        node = function_at(tree, target.name, target.span.start_line + 1)
        after = ast.get_docstring(node)
        assert after is not None
        # Only lines were added: the original lines are all there, unchanged and in order.
        assert is_subsequence(before.split("\n"), after.split("\n")), f"{path}:{target.name}"
        flat_after = " ".join(after.split())
        for sentence in sentences(before):
            assert sentence in flat_after, f"{path}:{target.name} lost {sentence!r}"
        # Nothing outside that docstring moved.
        original = ast.parse(source)
        assert without_docstring(tree, node) == without_docstring(
            original, function_at(original, target.name, target.span.start_line + 1)
        )
        assert "added" in result.note
    assert checked > 40, f"only {checked} documented functions in {package}"
    assert updated > 0, "no documented function had a parameter left to add"


def test_verify_password_keeps_its_docstring_and_gains_a_whole_parameter_section() -> None:
    path = realcode.sdist("django") / "django/contrib/auth/hashers.py"
    source = path.read_text(encoding="utf-8")
    line = next(i for i, text in enumerate(source.split("\n")) if "def verify_password" in text)
    result = static(extract(str(path), source, line))
    assert result.existing and result.edit is not None
    edited = apply_text_edit(source, result.edit)
    doc = ast.get_docstring(function_at(ast.parse(edited), "verify_password", line + 1)) or ""
    assert doc.startswith(
        "Return two booleans. The first is whether the raw password matches the\n"
        "three part encoded digest, and the second whether to regenerate the\npassword."
    )
    # password and encoded are mentioned in the prose, preferred is not: the docstring has no
    # parameter section, so the new one lists all three (one listing only preferred would
    # read as if it were the only parameter).
    section = doc.split("\n\nArgs:\n", 1)[1].split("\n")
    assert [entry.split()[0] for entry in section] == ["password:", "encoded:", "preferred:"]
    assert "Defaults to 'default'." in section[2]
    assert "Returns:" not in doc, "an update adds missing parameters, never invented sections"
    assert result.note == (
        "added a parameter section (password, encoded, preferred): the docstring had none, "
        "and did not mention preferred"
    )


def test_the_skeleton_does_not_guess_what_a_return_value_means() -> None:
    """verify_password returns two booleans: "Returns: The password." would be invented."""
    path = realcode.sdist("django") / "django/contrib/auth/hashers.py"
    source = path.read_text(encoding="utf-8")
    tree = ast.parse(source)
    func = next(n for n in tree.body if getattr(n, "name", "") == "verify_password")
    assert isinstance(func, ast.FunctionDef)
    func.body = func.body[1:]  # the same function with its docstring removed
    bare = ast.unparse(tree)
    line = next(i for i, text in enumerate(bare.split("\n")) if "def verify_password" in text)
    result = static(extract(str(path), bare, line))
    assert not result.existing
    returns = result.docstring.split("Returns:\n", 1)[1].split("\n")[0].strip()
    assert returns == docstring_words.RETURN_PLACEHOLDER
    assert "password" not in returns.lower()


def test_no_skeleton_documents_the_receiver() -> None:
    # Methods leave `self` out of their parameters; a nested function taking `self` (Flask's
    # `on_update(self: te.Self)` inside SecureCookieSession.__init__) did not, and its skeleton
    # said "self (te.Self): TODO - describe.", an edit nobody would accept.
    root = realcode.sdist("flask")
    path = root / "src/flask/sessions.py"
    source = path.read_text(encoding="utf-8")
    line = next(i for i, text in enumerate(source.split("\n")) if "def on_update(self" in text)
    ctx = extract(str(path), source, line + 1)
    assert (ctx.target.name, ctx.target.params[:1]) == ("on_update", ("self",))
    assert "self" not in static(ctx).docstring
    # ... and nowhere in the real files: a receiver left in the parameters gets no entry (a
    # later `cls`, as in `__get__(self, instance, cls=None)`, is a parameter like any other).
    receivers = 0
    files = [realcode.sdist(p) / r for p, paths in SOURCES.items() for r in paths] + [path]
    for file in files:
        for each in extract_all(str(file), file.read_text(encoding="utf-8")):
            params = each.target.params
            if not params or params[0] not in ("self", "cls") or not each.target.doc_slot:
                continue
            receivers += 1
            skeleton = static(each).docstring
            entry = re.search(rf"^\s*{params[0]}( \(.*\))?:", skeleton, re.M)
            assert entry is None, (file, skeleton)
    assert receivers >= 1


@pytest.mark.parametrize("name", ["get_send_file_max_age", "send_static_file"])
def test_a_new_parameter_section_goes_before_the_directives_that_end_the_docstring(
    name: str,
) -> None:
    # Flask ends its docstrings in `.. versionchanged::` / `.. versionadded::` directives; the
    # parameters belong to the description, before them (appended after, they read as part of
    # the last directive's body in some renderers, and nobody writes them there).
    path = realcode.sdist("flask") / "src/flask/app.py"
    source = path.read_text(encoding="utf-8")
    line = next(i for i, text in enumerate(source.split("\n")) if f"def {name}(self" in text)
    result = static(extract(str(path), source, line))
    assert result.existing and result.edit is not None
    edited = apply_text_edit(source, result.edit)
    before = ast.get_docstring(function_at(ast.parse(source), name, line + 1)) or ""
    doc = ast.get_docstring(function_at(ast.parse(edited), name, line + 1)) or ""
    lines = doc.split("\n")
    param = next(i for i, text in enumerate(lines) if text.startswith(":param filename:"))
    directive = next(i for i, text in enumerate(lines) if text.startswith(".. version"))
    fields = [i for i, text in enumerate(lines) if text.startswith((":param", ":type"))]
    assert fields == list(range(param, param + len(fields))) and fields[-1] < directive, doc
    # One blank line either side, as between the author's paragraphs.
    assert lines[param - 2 : param] == ["class.", ""], doc
    assert lines[fields[-1] + 1] == "" and lines[fields[-1] + 2].startswith(".. version"), doc
    # Only the fields were added: the author's text around them is unchanged, in order.
    kept = [t for i, t in enumerate(lines) if i not in fields]
    assert "\n".join(kept).replace("\n\n\n", "\n\n") == before, doc
