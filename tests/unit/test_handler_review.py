"""The review handler: JSON findings (clean or messy), line mapping, ruff, cache round trip."""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

import pytest

from tierwise.core.code import CodeContext, DocSlot, Span, Target
from tierwise.core.errors import BadResponse, UsageError
from tierwise.core.results import Finding, ReviewResult, TextEdit, result_from_dict, result_to_dict
from tierwise.core.task import Action, Task
from tierwise.edits import apply_text_edit
from tierwise.handlers import review_static
from tierwise.handlers.review import handler, map_severity

DATA = Path(__file__).resolve().parents[1] / "data"
REPLIES = DATA / "replies"
TOKENS = DATA / "handler_tokens.py"
SOURCE = TOKENS.read_text(encoding="utf-8")
LINES = SOURCE.split("\n")


def reply(name: str) -> str:
    return (REPLIES / name).read_text(encoding="utf-8")


def method_target(
    start: int, first: int, count: int, indent: int, path: str = str(TOKENS)
) -> Target:
    """The method parse_token copied from the sample, placed at `start` with `indent` spaces."""
    body = [line[4:] if line.strip() else "" for line in LINES[14 : 14 + count]]
    lines = [(" " * indent + line if line else "") for line in body]
    text = "\n".join([lines[0][indent:], *lines[1:]])
    end = start + count - 1
    return Target(
        path,
        "python",
        "method",
        "parse_token",
        Span(start, indent, end, len(lines[-1])),
        text,
        body[0],
        Span(start, indent + 4, start, indent + 15),
        ("raw", "strict"),
        "dict",
        (),
        DocSlot(start + 1, " " * (indent + 4)),
    )


def parse_token_target() -> Target:
    return method_target(14, 14, 10, 4)


def task(target: Target | None = None, **options: str) -> Task:
    return Task(Action.REVIEW, CodeContext(target or parse_token_target()), options=dict(options))


def findings(name: str, target: Target | None = None) -> tuple[Finding, ...]:
    result = handler.parse(task(target), reply(name))
    assert isinstance(result, ReviewResult)
    return result.findings


def test_the_sample_target_matches_the_file() -> None:
    target = parse_token_target()
    assert LINES[target.span.start_line][target.span.start_col :] == target.text.split("\n")[0]
    assert LINES[target.span.end_line][: target.span.end_col] == "        return payload"


def test_clean_reply_maps_lines_to_document_spans() -> None:
    first, second = findings("review_clean.json")
    # Line 5 as numbered in the prompt is the json.loads line (document line 18).
    assert first.span == Span(18, 12, 18, len(LINES[18]))
    assert (first.severity, first.replacement) == ("warning", None)
    assert first.message.startswith("base64.urlsafe_b64decode raises binascii.Error")
    assert second.span == Span(15, 8, 16, len(LINES[16]))
    assert second.severity == "info"


def test_a_replacement_is_reindented_to_the_document() -> None:
    finding = findings("review_clean.json")[1]
    assert finding.replacement is not None
    fixed = apply_text_edit(SOURCE, TextEdit(finding.span, finding.replacement))
    ast.parse(fixed)
    lines = fixed.split("\n")
    assert lines[15:17] == ["        if not raw:", '            raise TokenError("empty token")']
    assert lines[17] == "        try:"


def test_messy_reply_is_recovered_and_severities_mapped() -> None:
    found = findings("review_messy.txt")
    assert [f.severity for f in found] == ["error", "info", "hint", "warning"]
    assert found[0].span.start_line == 18
    assert (found[1].span.start_line, found[1].span.end_line) == (21, 22)
    assert found[1].message.startswith("The expiry check ignores")  # from "description"
    fix = found[2]
    assert fix.replacement == "return dict(payload)"  # fence and copied line number removed
    fixed = apply_text_edit(SOURCE, TextEdit(fix.span, fix.replacement)).split("\n")
    assert fixed[23] == "        return dict(payload)"


def test_out_of_range_lines_are_dropped_or_clamped() -> None:
    (only,) = findings("review_out_of_range.json")
    # "line 9, end_line 15": clamped to the last line (10), and its replacement is dropped.
    assert only.span == Span(22, 12, 23, len(LINES[23]))
    assert only.replacement is None


def test_all_findings_unusable_is_a_bad_response_that_says_why() -> None:
    with pytest.raises(BadResponse) as caught:
        findings("review_all_out_of_range.json")
    assert str(caught.value) == (
        "review reply had 2 finding(s) but none usable: finding 1 points at line 40, outside the "
        "10 lines shown; finding 2 has no message"
    )


def test_prose_without_json_is_a_bad_response() -> None:
    with pytest.raises(BadResponse, match="review reply had no JSON object with a 'findings' list"):
        findings("review_garbage.txt")


def test_an_empty_findings_list_means_no_issues() -> None:
    assert findings("review_empty.json") == ()


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("ERROR", "error"),
        ("critical", "error"),
        ("Major", "warning"),
        ("minor", "info"),
        ("nit", "hint"),
        ("hint", "hint"),
        ("purple", "warning"),
        (None, "warning"),
    ],
)
def test_map_severity(given: object, expected: str) -> None:
    assert map_severity(given) == expected


def test_prompt_numbers_the_target_lines_in_the_question_only() -> None:
    hints = "- line 5 (warning): S307: Use of possibly insecure function"
    prompt = handler.build_prompt(task(hints=hints, extra="We target Python 3.11."))
    assert (
        " 1 | def parse_token(self, raw: str, *, strict: bool = False) -> dict:" in prompt.question
    )
    assert " 5 |         payload = json.loads(base64.urlsafe_b64decode(raw))" in prompt.question
    assert "10 |     return payload" in prompt.question
    assert hints in prompt.question
    assert "urlsafe_b64decode" not in prompt.system + prompt.context
    assert '"findings"' in prompt.system and prompt.system.endswith("We target Python 3.11.")


def test_expected_output_grows_with_the_target() -> None:
    assert handler.expected_output_tokens(task()) == 360


# --- cache round trip -------------------------------------------------------------------------


def test_relativize_then_adjust_moves_findings_to_a_shifted_reindented_copy() -> None:
    result = handler.parse(task(), reply("review_clean.json"))
    # Through the cache's JSON form, as the engine stores it.
    stored = result_from_dict(Action.REVIEW, result_to_dict(handler.relativize(task(), result)))
    assert isinstance(stored, ReviewResult)
    assert stored.findings[0].span.start_line == 4
    # The same method as a module-level function 100 lines further down (4 columns to the left).
    moved_target = method_target(104, 14, 10, 0, path="moved.py")
    moved_source = "\n" * 104 + "\n".join(
        [moved_target.text.split("\n")[0], *moved_target.text.split("\n")[1:]]
    )
    moved = handler.adjust(task(moved_target), stored)
    assert isinstance(moved, ReviewResult)
    first, second = moved.findings
    moved_lines = moved_source.split("\n")
    assert first.span == Span(108, 8, 108, len(moved_lines[108]))
    assert moved_lines[108][first.span.start_col :].startswith("payload = json.loads(")
    assert second.replacement is not None
    fixed = apply_text_edit(moved_source, TextEdit(second.span, second.replacement))
    ast.parse(fixed)
    assert fixed.split("\n")[105:107] == [
        "    if not raw:",
        '        raise TokenError("empty token")',
    ]


def test_adjust_clamps_findings_past_the_end_of_a_shorter_target() -> None:
    stored = handler.relativize(task(), handler.parse(task(), reply("review_clean.json")))
    short = method_target(14, 14, 3, 4)  # only the first three lines
    moved = handler.adjust(task(short), stored)
    assert isinstance(moved, ReviewResult)
    last = short.span.end_line
    assert all(short.span.start_line <= f.span.start_line <= last for f in moved.findings)
    assert all(f.span.end_line <= last for f in moved.findings)
    assert moved.findings[0].span.start_line == last


# --- static review with the real ruff --------------------------------------------------------


def load_tokens_target() -> Target:
    text = "\n".join(LINES[34:38])
    return Target(
        str(TOKENS),
        "python",
        "function",
        "load_tokens",
        Span(34, 0, 37, len(LINES[37])),
        text,
        "def load_tokens(path):",
        Span(34, 4, 34, 15),
        ("path",),
        None,
        (),
        DocSlot(35, "    "),
    )


def test_static_review_finds_the_unused_import_and_eval_at_document_lines() -> None:
    target = load_tokens_target()
    result = handler.run_static(task(target))
    assert isinstance(result, ReviewResult)
    by_code = {f.code: f for f in result.findings}
    unused = by_code["F401"]
    assert unused.message == "F401: `os` imported but unused"
    assert unused.severity == "warning"
    assert unused.span == Span(35, 0, 36, 0) and unused.replacement == ""
    assert "import os" not in apply_text_edit(SOURCE, TextEdit(unused.span, unused.replacement))
    use_of_eval = by_code["S307"]
    assert use_of_eval.span.start_line == 37
    assert LINES[37][use_of_eval.span.start_col :].startswith("eval(line)")


def test_static_review_of_an_indented_method_uses_document_columns() -> None:
    source = "class C:\n    def run(self, expr):\n        import os\n        return eval(expr)\n"
    lines = source.split("\n")
    text = "\n".join([lines[1][4:], lines[2], lines[3]])
    target = Target(
        "c.py",
        "python",
        "method",
        "run",
        Span(1, 4, 3, len(lines[3])),
        text,
        "def run(self, expr):",
        Span(1, 8, 1, 11),
        ("expr",),
        None,
        (),
        DocSlot(2, "        "),
    )
    result = handler.run_static(task(target))
    assert isinstance(result, ReviewResult)
    by_code = {f.code: f for f in result.findings}
    assert by_code["S307"].span.start_line == 3
    assert lines[3][by_code["S307"].span.start_col :].startswith("eval(expr)")
    assert by_code["F401"].span.start_line == 2


def test_static_findings_text_uses_target_line_numbers() -> None:
    text = handler.static_findings_text(task(load_tokens_target()))
    lines = text.split("\n")
    assert "- line 2 (warning): F401: `os` imported but unused" in lines
    assert any(line.startswith("- line 4 (warning): S307: ") for line in lines)


def test_static_review_is_python_only() -> None:
    go = Target("w.go", "go", "function", "Run", Span(0, 0, 2, 1), "func Run() {\n}", "func Run()")
    with pytest.raises(
        UsageError, match=r"static review supports Python only \(ruff\); pick a model tier"
    ):
        handler.run_static(task(go))


def test_line_numbers_in_other_shapes() -> None:
    text = (
        '[{"line": -1, "message": "negative"}, {"line": "L8", "message": "prefixed"},'
        ' {"line": 3.0, "end_line": "4", "message": "float"}, {"line": true, "message": "bool"}]'
    )
    result = handler.parse(task(), text)
    assert isinstance(result, ReviewResult)
    placed = [(f.message, f.span.start_line, f.span.end_line) for f in result.findings]
    assert placed == [("prefixed", 21, 21), ("float", 16, 17)]


def test_ruff_is_found_as_a_module_when_no_binary_is_around(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    fake_python = tmp_path / "bin" / "python"
    monkeypatch.setattr(review_static.sys, "executable", str(fake_python))
    monkeypatch.setenv("PATH", str(tmp_path))
    assert review_static.find_ruff() == [str(fake_python), "-m", "ruff"]


def test_missing_ruff_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(review_static.sys, "executable", str(tmp_path / "python"))
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "ruff" else real_find_spec(name, *a),
    )
    with pytest.raises(UsageError, match=r"static review needs ruff.*python -m pip install ruff"):
        handler.run_static(task(load_tokens_target()))


def test_static_review_reports_only_the_first_syntax_error() -> None:
    text = "def broken(:\n    return [1, 2\n"
    target = Target("b.py", "python", "function", "broken", Span(7, 0, 9, 0), text, "def broken(:")
    result = handler.run_static(task(target))
    assert isinstance(result, ReviewResult)
    syntax = [f for f in result.findings if f.code == "syntax"]
    assert len(syntax) == 1
    assert syntax[0].severity == "error" and syntax[0].message.startswith("syntax error: ")
    assert syntax[0].span.start_line == 7
