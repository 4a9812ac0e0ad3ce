"""Applying a TextEdit to text (CLI --apply and tests); the server uses LSP edits instead."""

from __future__ import annotations

from tierwise.core.results import TextEdit


def offset_of(text: str, line: int, col: int) -> int:
    """The str offset of a 0-based (line, column); a line past the end maps to the end."""
    lines = text.splitlines(keepends=True)
    if line >= len(lines):
        return len(text)
    return sum(len(chunk) for chunk in lines[:line]) + min(col, len(lines[line]))


def apply_text_edit(text: str, edit: TextEdit) -> str:
    """Return the text with the edit applied."""
    start = offset_of(text, edit.span.start_line, edit.span.start_col)
    end = offset_of(text, edit.span.end_line, edit.span.end_col)
    return text[:start] + edit.new_text + text[end:]
