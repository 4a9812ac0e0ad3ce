"""The CLI shows a docstring edit as a diff of the lines it changes (tierwise/edits.py: preview).

An update of an existing docstring often starts mid-line (the smallest edit), so its bare new
text ("param x: ..." without its colon) misled. The preview is checked against an independent
oracle on real code: the whole file diffed before and after applying the edit.
"""

from __future__ import annotations

import re

import pytest

from tests import realcode
from tierwise.context.extract import extract_all
from tierwise.core.code import Span
from tierwise.core.errors import UsageError
from tierwise.core.results import DocstringResult, TextEdit
from tierwise.core.task import Action, Task
from tierwise.edits import apply_text_edit, preview
from tierwise.handlers.docstring import handler
from tierwise.report import docstring_text

FILES = {
    "flask": ["src/flask/helpers.py", "src/flask/config.py"],
    "requests": ["src/requests/utils.py"],
}


def _patched(lines: list[str], shown: str) -> list[str]:
    """The file's lines with the preview's hunks applied: each hunk's old lines (context and
    "-") must be at its line number, and are replaced by its new ones (context and "+")."""
    out = list(lines)
    offset = 0
    for hunk in re.split(r"^(?=@@ line \d+ @@$)", shown, flags=re.M):
        if not hunk:
            continue
        head, *rows = hunk.split("\n")
        found = re.fullmatch(r"@@ line (\d+) @@", head)
        assert found, head
        start = int(found.group(1)) - 1 + offset
        old = [r[2:] for r in rows if r[:2] in ("  ", "- ")]
        new = [r[2:] for r in rows if r[:2] in ("  ", "+ ")]
        assert out[start : start + len(old)] == old
        out[start : start + len(old)] = new
        offset += len(new) - len(old)
    return out


@pytest.mark.parametrize("package", sorted(FILES))
def test_the_preview_shows_exactly_what_applying_the_edit_changes(package: str) -> None:
    root = realcode.sdist(package)
    checked = 0
    for relative in FILES[package]:
        source = (root / relative).read_text(encoding="utf-8")
        lines = source.splitlines()
        for ctx in extract_all(str(root / relative), source):
            if ctx.target.kind not in ("function", "method"):
                continue
            try:
                result = handler.run_static(
                    Task(Action.DOCSTRING, ctx, options={"style": "sphinx"})
                )
            except UsageError:  # `def f(): ...` on one line: refused, with the reason
                continue
            assert isinstance(result, DocstringResult)
            if result.edit is None:
                continue
            shown = preview(ctx.target, result.edit)
            assert shown is not None
            after = apply_text_edit(source, result.edit).splitlines()
            assert _patched(lines, shown) == after
            checked += 1
    assert checked >= 10  # enough edits, with and without an existing docstring


def test_an_edit_outside_the_target_is_not_previewed_and_the_text_says_it_plainly() -> None:
    source = "def add(a, b):\n    return a + b\n"
    ctx = extract_all("m.py", source)[0]
    outside = TextEdit(Span(5, 0, 5, 0), "x")
    assert preview(ctx.target, outside) is None
    result = DocstringResult(docstring="Add.", edit=outside, style="google")
    assert docstring_text(result, ctx.target).endswith(":\nx")
