"""The plain form of each result: what the disk cache holds, so it must not change shape.

Until pass 5 of issue 8 cattrs wrote and read this form (results were attrs classes); the
records write the same dicts, and read back what cattrs read (text through str, a missing
optional key as its default, unknown keys ignored), so entries written before stay hits.
"""

from __future__ import annotations

from typing import Any

import pytest

from tierwise.core.code import Span
from tierwise.core.results import (
    DocstringResult,
    Finding,
    MarkdownResult,
    RenameCandidate,
    RenameResult,
    Result,
    ReviewResult,
    TextEdit,
    result_from_dict,
    result_to_dict,
)
from tierwise.core.task import Action

SPAN = {"start_line": 1, "start_col": 4, "end_line": 1, "end_col": 9}
CASES: list[tuple[Action, Result, dict[str, Any]]] = [
    (
        Action.DOCSTRING,
        DocstringResult("Add.", TextEdit(Span(1, 4, 1, 9), '"""Add."""'), "google"),
        {
            "docstring": "Add.",
            "edit": {"span": SPAN, "new_text": '"""Add."""'},
            "style": "google",
            "existing": False,
            "note": "",
        },
    ),
    (
        Action.RENAME,
        RenameResult("f", (RenameCandidate("total", "sums"),), Span(1, 4, 1, 9)),
        {"old_name": "f", "candidates": [{"name": "total", "reason": "sums"}], "name_span": SPAN},
    ),
    (Action.EXPLAIN, MarkdownResult("Explain", "# f"), {"title": "Explain", "markdown": "# f"}),
    (
        Action.REVIEW,
        ReviewResult((Finding(Span(1, 4, 1, 9), "warning", "slow", "x", "T1"),)),
        {
            "findings": [
                {
                    "span": SPAN,
                    "severity": "warning",
                    "message": "slow",
                    "replacement": "x",
                    "code": "T1",
                }
            ]
        },
    ),
]


@pytest.mark.parametrize(("action", "result", "plain"), CASES, ids=lambda v: str(v)[:20])
def test_a_result_is_stored_and_read_in_the_form_the_cache_holds(
    action: Action, result: Result, plain: dict[str, Any]
) -> None:
    assert result_to_dict(result) == plain
    assert result_from_dict(action, plain) == result


def test_reading_converts_and_defaults_as_before() -> None:
    stored = {"findings": [{"span": {**SPAN, "start_line": "1"}, "severity": 5, "message": "m"}]}
    read = result_from_dict(Action.REVIEW, {**stored, "older_key": True})
    assert read == ReviewResult((Finding(Span(1, 4, 1, 9), "5", "m"),))


@pytest.mark.parametrize("entry", [{}, {"findings": 5}, {"findings": [{"span": None}]}])
def test_an_entry_of_another_shape_raises_and_so_is_a_miss(entry: dict[str, Any]) -> None:
    with pytest.raises((KeyError, TypeError, ValueError)):
        result_from_dict(Action.REVIEW, entry)
