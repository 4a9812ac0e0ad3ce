"""The docstring handler for JavaScript/TypeScript (JSDoc), Go and Rust comments."""

from __future__ import annotations

from pathlib import Path

import pytest

from tierwise.core.code import CodeContext, DocSlot, Span, Target
from tierwise.core.errors import BadResponse
from tierwise.core.results import DocstringResult
from tierwise.core.task import Action, Task
from tierwise.edits import apply_text_edit
from tierwise.handlers.docstring import handler

DATA = Path(__file__).resolve().parents[1] / "data"
REPLIES = DATA / "replies"


def reply(name: str) -> str:
    return (REPLIES / name).read_text(encoding="utf-8")


def sliced(path: Path, span: Span) -> str:
    lines = path.read_text(encoding="utf-8").split("\n")
    if span.start_line == span.end_line:
        return lines[span.start_line][span.start_col : span.end_col]
    parts = [lines[span.start_line][span.start_col :], *lines[span.start_line + 1 : span.end_line]]
    return "\n".join([*parts, lines[span.end_line][: span.end_col]])


def task(target: Target, **options: str) -> Task:
    return Task(Action.DOCSTRING, CodeContext(target), options=dict(options))


def applied(target: Target, result: DocstringResult) -> str:
    assert result.edit is not None
    return apply_text_edit(Path(target.path).read_text(encoding="utf-8"), result.edit)


def ts_remove_target() -> Target:
    path = DATA / "handler_store.ts"
    span = Span(21, 2, 23, 3)
    return Target(
        path=str(path),
        language="typescript",
        kind="method",
        name="remove",
        span=span,
        text=sliced(path, span),
        signature="async remove(id: string): Promise<void>",
        name_span=Span(21, 8, 21, 14),
        params=("id",),
        returns="Promise<void>",
        doc_slot=DocSlot(21, "  "),
    )


@pytest.mark.parametrize("name", ["docstring_jsdoc_block.txt", "docstring_jsdoc_whole.txt"])
def test_jsdoc_reply_becomes_a_block_above_the_method(name: str) -> None:
    target = ts_remove_target()
    result = handler.parse(task(target), reply(name))
    assert isinstance(result, DocstringResult)
    assert result.style == "jsdoc"
    assert result.docstring.split("\n") == [
        "Delete an order by id.",
        "",
        "@param id - The order's primary key.",
        "@returns A promise that settles once the row is gone.",
    ]
    lines = applied(target, result).split("\n")
    assert lines[21:28] == [
        "  /**",
        "   * Delete an order by id.",
        "   *",
        "   * @param id - The order's primary key.",
        "   * @returns A promise that settles once the row is gone.",
        "   */",
        "  async remove(id: string): Promise<void> {",
    ]


def test_existing_jsdoc_one_liner_is_replaced() -> None:
    path = DATA / "handler_store.ts"
    span, existing = Span(12, 2, 19, 3), Span(12, 2, 12, 30)
    target = Target(
        str(path),
        "typescript",
        "method",
        "find",
        span,
        sliced(path, span),
        "async find(id: string): Promise<Order | null>",
        Span(13, 8, 13, 12),
        ("id",),
        "Promise<Order | null>",
        (),
        DocSlot(13, "  ", existing, sliced(path, existing)),
    )
    result = handler.parse(task(target), "Load one order by id, or null when there is none.")
    assert isinstance(result, DocstringResult)
    lines = applied(target, result).split("\n")
    assert lines[12] == "  /** Load one order by id, or null when there is none. */"
    assert lines[13].startswith("  async find(")


def go_run_target() -> Target:
    path = DATA / "handler_worker.go"
    span = Span(24, 0, 38, 1)
    return Target(
        path=str(path),
        language="go",
        kind="method",
        name="Run",
        span=span,
        text=sliced(path, span),
        signature="func (p *Pool) Run(ctx context.Context, jobs []queue.Job) error",
        name_span=Span(24, 15, 24, 18),
        params=("ctx", "jobs"),
        returns="error",
        doc_slot=DocSlot(24, ""),
    )


def test_go_reply_with_the_whole_function_keeps_only_the_comment() -> None:
    target = go_run_target()
    result = handler.parse(task(target), reply("docstring_go_whole.txt"))
    assert isinstance(result, DocstringResult)
    assert result.style == "godoc"
    lines = applied(target, result).split("\n")
    assert lines[24] == "// Run starts every job on its own goroutine and waits for all of them."
    assert lines[25].startswith("// A failing job is logged")
    assert lines[26].startswith("func (p *Pool) Run(")


def test_go_code_without_a_comment_is_a_bad_response() -> None:
    code = "```go\nfunc (p *Pool) Run(ctx context.Context) error {\n\treturn nil\n}\n```"
    with pytest.raises(BadResponse, match="go code with no doc comment above 'Run'"):
        handler.parse(task(go_run_target()), code)


def test_rust_comment_lines_are_stripped_and_rendered_at_the_method_indent() -> None:
    path = DATA / "handler_cache.rs"
    span = Span(18, 4, 24, 5)
    target = Target(
        str(path),
        "rust",
        "method",
        "get",
        span,
        sliced(path, span),
        "pub fn get(&self, key: &str) -> Option<String>",
        Span(18, 11, 18, 14),
        ("key",),
        "Option<String>",
        (),
        DocSlot(18, "    "),
    )
    result = handler.parse(task(target), reply("docstring_rust_comments.txt"))
    assert isinstance(result, DocstringResult)
    assert result.docstring.startswith("Returns a copy of the value stored under `key`.\n\n")
    assert "# Panics" in result.docstring  # a rustdoc heading, not a comment marker
    lines = applied(target, result).split("\n")
    assert lines[18] == "    /// Returns a copy of the value stored under `key`."
    assert lines[19] == "    ///"
    assert lines[21:23] == ["    ///", "    /// # Panics"]
    assert lines[25].startswith("    pub fn get(")


def test_js_targets_get_jsdoc_whatever_the_python_style() -> None:
    prompt = handler.build_prompt(task(ts_remove_target(), style="numpy"))
    assert "JSDoc" in prompt.question
