"""Applying a TextEdit to text (CLI --apply and tests); the server uses LSP edits instead."""

from __future__ import annotations

import re

from tierwise.core.results import TextEdit

_BREAK = re.compile(r"\r\n|\r|\n")


def line_ending(text: str) -> str:
    """The text's line break: that of its first line ("\n" when it has none)."""
    found = _BREAK.search(text)
    return found.group() if found else "\n"


def match_line_endings(new_text: str, text: str) -> str:
    """`new_text` with the line breaks `text` uses, so an edit keeps a CRLF file CRLF."""
    ending = line_ending(text)
    return new_text if ending == "\n" else _BREAK.sub(ending, new_text)


def offset_of(text: str, line: int, col: int) -> int:
    """The str offset of a 0-based (line, column); a line past the end maps to the end."""
    lines = text.splitlines(keepends=True)
    if line >= len(lines):
        return len(text)
    return sum(len(chunk) for chunk in lines[:line]) + min(col, len(lines[line]))


def apply_text_edit(text: str, edit: TextEdit) -> str:
    """Return the text with the edit applied (its line breaks written as the text's own)."""
    start = offset_of(text, edit.span.start_line, edit.span.start_col)
    end = offset_of(text, edit.span.end_line, edit.span.end_col)
    return text[:start] + match_line_endings(edit.new_text, text) + text[end:]
