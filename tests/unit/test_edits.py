"""Applying a TextEdit (the CLI's --apply): the file keeps its own line breaks."""

from __future__ import annotations

import pytest

from tierwise.core.code import Span
from tierwise.core.results import TextEdit
from tierwise.edits import apply_text_edit, line_ending, match_line_endings

SOURCE = "def total(a, b):\n    return a + b\n"
DOCSTRING = TextEdit(Span(1, 0, 1, 0), '    """Add two numbers.\n\n    Returns the sum.\n    """\n')


@pytest.mark.parametrize("ending", ["\n", "\r\n", "\r"])
def test_an_inserted_docstring_uses_the_files_line_breaks(ending: str) -> None:
    source = SOURCE.replace("\n", ending)

    out = apply_text_edit(source, DOCSTRING)

    expected = (SOURCE.split("\n")[0] + "\n" + DOCSTRING.new_text + "    return a + b\n").replace(
        "\n", ending
    )
    assert out == expected
    assert line_ending(out) == ending


def test_text_without_a_line_break_takes_lf() -> None:
    assert line_ending("x = 1") == "\n"
    assert match_line_endings("a\r\nb\n", "x = 1") == "a\r\nb\n"  # nothing to match: unchanged
    assert match_line_endings("a\nb\r\nc", "x\r\ny") == "a\r\nb\r\nc"
