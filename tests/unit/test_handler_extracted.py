"""Handlers on targets from the real extractor (skipped until tierwise.context.extract exists)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tierwise.core.results import DocstringResult, ReviewResult
from tierwise.core.task import Action, Task
from tierwise.edits import apply_text_edit
from tierwise.handlers.registry import get_handler

extract_module = pytest.importorskip("tierwise.context.extract")
DATA = Path(__file__).resolve().parents[1] / "data"


def at(name: str, needle: str, action: Action, **options: str) -> tuple[Task, str]:
    path = DATA / name
    source = path.read_text(encoding="utf-8")
    line = next(i for i, text in enumerate(source.split("\n")) if needle in text)
    context = extract_module.extract(str(path), source, line, len(source.split("\n")[line]) // 2)
    return Task(action, context, options=dict(options)), source


def test_static_numpy_docstring_keeps_the_existing_one_and_adds_the_parameters() -> None:
    task, source = at("handler_tokens.py", "def is_expired(", Action.DOCSTRING, style="numpy")
    result = get_handler(Action.DOCSTRING).run_static(task)
    assert isinstance(result, DocstringResult) and result.existing
    assert result.edit is not None
    edited = apply_text_edit(source, result.edit)
    tree = ast.parse(edited)
    func = next(
        n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == "is_expired"
    )
    assert ast.get_docstring(func) == result.docstring
    assert edited.count("Return True when the token's expiry is in the past.") == 1
    assert result.docstring.startswith("Return True when the token's expiry is in the past.\n\n")
    assert "payload : dict" in result.docstring and "now : float" in result.docstring
    # The summary already says what it returns; an update never adds invented sections.
    assert "Returns" not in result.docstring
    assert "payload, now" in result.note


def test_static_review_lines_on_an_extracted_function() -> None:
    task, source = at("handler_tokens.py", "import os", Action.REVIEW)
    result = get_handler(Action.REVIEW).run_static(task)
    assert isinstance(result, ReviewResult)
    lines = source.split("\n")
    by_code = {f.code: f for f in result.findings}
    assert lines[by_code["F401"].span.start_line].strip() == "import os"
    s307 = by_code["S307"].span
    assert lines[s307.start_line][s307.start_col : s307.end_col].startswith("eval(")


def test_model_docstring_for_an_extracted_typescript_method() -> None:
    task, source = at("handler_store.ts", "async remove(", Action.DOCSTRING)
    handler = get_handler(Action.DOCSTRING)
    result = handler.parse(task, "Delete an order by id.\n\n@param id - The order's primary key.")
    assert isinstance(result, DocstringResult)
    assert result.edit is not None
    lines = apply_text_edit(source, result.edit).split("\n")
    start = next(i for i, text in enumerate(lines) if text == "  /**")
    assert lines[start : start + 5] == [
        "  /**",
        "   * Delete an order by id.",
        "   *",
        "   * @param id - The order's primary key.",
        "   */",
    ]
    assert lines[start + 5].startswith("  async remove(")
