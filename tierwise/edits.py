"""Applying a TextEdit to text (CLI --apply and tests), and previewing one; the server uses LSP
edits instead."""

from __future__ import annotations

import re

from tierwise.core.code import Span, Target
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


def preview(target: Target, edit: TextEdit, *, context: int = 1) -> str | None:
    """The lines an edit inside the target changes, as a diff with the file's line numbers
    ("-" old, "+" new, " " context), or None when the edit reaches outside the target."""
    span, where = edit.span, target.span
    if (span.start_line, span.start_col) < (where.start_line, where.start_col) or (
        span.end_line,
        span.end_col,
    ) > (where.end_line, where.end_col):
        return None

    # The target's text starts at its column: pad its first line back to the file's layout (an
    # indented method), so the diff shows the lines as they are and the columns line up.
    text = " " * where.start_col + target.text
    first_line = where.start_line
    inner = TextEdit(
        Span(
            span.start_line - first_line,
            span.start_col,
            span.end_line - first_line,
            span.end_col,
        ),
        edit.new_text,
    )
    old = text.splitlines()
    new = apply_text_edit(text, inner).splitlines()
    rows: list[str] = []
    import difflib  # here: only a preview diffs, and every command imports this module

    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for group in matcher.get_grouped_opcodes(context):
        first = where.start_line + group[0][1] + 1
        rows.append(f"@@ line {first} @@")
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                rows += [f"  {line}" for line in old[i1:i2]]
                continue
            rows += [f"- {line}" for line in old[i1:i2]]
            rows += [f"+ {line}" for line in new[j1:j2]]
    return "\n".join(rows)
