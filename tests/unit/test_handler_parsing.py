"""Shared reply-parsing helpers: fences, chatter, lenient JSON, identifiers, target layout."""

from __future__ import annotations

import pytest

from tierwise.core.code import Span, Target
from tierwise.handlers.parsing import (
    Layout,
    fenced_blocks,
    find_json,
    is_identifier,
    loads_lenient,
    strip_chatter,
    unwrap,
)


def test_fenced_blocks_with_and_without_language() -> None:
    reply = 'Intro\n```json\n{"a": 1}\n```\nmiddle\n```\nplain\n```\n'
    assert fenced_blocks(reply) == [("json", '{"a": 1}'), ("", "plain")]


def test_an_unclosed_fence_runs_to_the_end() -> None:
    reply = "Here:\n```python\ndef f():\n    pass\n"
    assert fenced_blocks(reply) == [("python", "def f():\n    pass")]


def test_strip_chatter_drops_greeting_and_sign_off_only() -> None:
    reply = (
        "Sure! Here's the docstring:\n\nParse a token.\n\nArgs:\n    raw: The token.\n\n"
        "Let me know if you need anything else."
    )
    assert strip_chatter(reply) == "Parse a token.\n\nArgs:\n    raw: The token."


def test_strip_chatter_keeps_a_first_line_that_is_content() -> None:
    text = "Here the cache is consulted first.\n\nThen the network."
    assert strip_chatter(text) == text


def test_unwrap_prefers_the_fenced_answer_over_prose() -> None:
    assert unwrap("Certainly.\n```\nanswer\n```\nHope this helps!") == "answer"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"a": [1, 2,], "b": true,}', {"a": [1, 2], "b": True}),
        ("{'a': 'it\\'s', 'b': null}", {"a": "it's", "b": None}),
        ("{'ok': true, 'n': 3,}", {"ok": True, "n": 3}),
        ('[{"line": 1}]', [{"line": 1}]),
    ],
)
def test_loads_lenient_repairs_common_json_mistakes(text: str, expected: object) -> None:
    assert loads_lenient(text) == expected


def test_loads_lenient_rejects_non_json() -> None:
    with pytest.raises(ValueError, match="not JSON"):
        loads_lenient("{candidates: decode_claims}")


def test_find_json_skips_values_the_caller_does_not_accept() -> None:
    reply = 'See note [1]. Result: {"findings": [{"line": 2}]} and {"other": 1}'
    found = find_json(reply, lambda v: isinstance(v, dict) and "findings" in v)
    assert found == {"findings": [{"line": 2}]}


def test_find_json_ignores_braces_inside_strings() -> None:
    reply = 'Output: {"message": "use {x} not }", "line": 3}'
    assert find_json(reply, lambda v: isinstance(v, dict)) == {
        "message": "use {x} not }",
        "line": 3,
    }


def test_find_json_returns_none_without_json() -> None:
    assert find_json("no structured data here", lambda v: True) is None


@pytest.mark.parametrize(
    ("name", "language", "ok"),
    [
        ("decode_claims", "python", True),
        ("class", "python", False),
        ("match", "python", True),  # a soft keyword is a valid name
        ("parse-token", "python", False),
        ("$el", "javascript", True),
        ("delete", "typescript", False),
        ("ParseToken", "go", True),
        ("func", "go", False),
        ("fn", "rust", False),
        ("_", "rust", False),
        ("über_größe", "python", True),
        ("9lives", "java", False),
        ("a" * 100, "python", True),
        ("a" * 101, "python", False),  # no person picks a 101-character name
        ("x" * 10_000, "javascript", False),
        ("\ud800", "python", False),  # a lone surrogate
        ("get\udfffName", "typescript", False),
        ("a b", "go", False),
        ("", "rust", False),
    ],
)
def test_is_identifier(name: str, language: str, ok: bool) -> None:
    assert (is_identifier(name, language) is None) is ok


def _method(text: str, start_line: int, start_col: int) -> Target:
    lines = text.split("\n")
    end = Span(start_line, start_col, start_line + len(lines) - 1, len(lines[-1]))
    return Target("m.py", "python", "method", "f", end, text, lines[0])


def test_layout_pads_the_first_line_back_to_document_columns() -> None:
    target = _method("def f(self):\n        return 1", 10, 4)
    layout = Layout.of(target)
    assert layout.lines == ("    def f(self):", "        return 1")
    assert layout.common_indent == 4
    assert layout.display() == ["def f(self):", "    return 1"]
    assert layout.indent(1) == "        "
    assert layout.end_col(1) == 16


def test_layout_numbered_lines_start_at_one() -> None:
    layout = Layout.of(_method("def f(self):\n        x = 1\n\n        return x", 0, 4))
    assert layout.numbered().split("\n") == [
        "1 | def f(self):",
        "2 |     x = 1",
        "3 |",
        "4 |     return x",
    ]
