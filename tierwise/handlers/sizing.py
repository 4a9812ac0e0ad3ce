"""Prompt sizes without building the prompt: what routing needs to estimate a request's cost.

A route (and `tierwise plan`, thousands of them) needs only the prompt's length, and building
the prompt (the code's display lines joined, numbered for a review, the context rendered) to
count it was a tenth of plan's time. The sizes here are **exact**: each is the length of the
text the real builder makes, counted from the same pieces (tests/unit/test_plan_fast_paths.py
compares every handler's `prompt_chars` with `len` of its built prompt on real files), so the
cost estimates the user reads are what building the prompt would give.
"""

from __future__ import annotations

import functools
import os
from typing import TYPE_CHECKING

from tierwise.core.code import CodeContext, Target
from tierwise.handlers.parsing import leading_ws

if TYPE_CHECKING:
    from tierwise.core.task import Task
    from tierwise.handlers.base import Handler

IMPORTS_HEAD = "Imports:\n"
ENCLOSING_HEAD = "Enclosing:\n"
CALLEES_HEAD = "Signatures of functions it calls in this file:\n"


def prompt_chars(handler: Handler, task: Task) -> int:
    """len(system + context + question) of the handler's prompt for the task: counted by the
    handler when it can (`prompt_chars`, exact), else by building the prompt."""
    sized = getattr(handler, "prompt_chars", None)
    if sized is not None:
        return int(sized(task))
    return handler.build_prompt(task).chars


def context_chars(ctx: CodeContext) -> int:
    """len(ctx.render()): the context block's parts and the blank lines between them."""
    parts = []
    if ctx.imports:
        parts.append(len(IMPORTS_HEAD) + _joined(ctx.imports))
    if ctx.enclosing:
        parts.append(len(ENCLOSING_HEAD) + len(ctx.enclosing))
    if ctx.callees:
        parts.append(len(CALLEES_HEAD) + _joined(ctx.callees))
    return sum(parts) + 2 * max(0, len(parts) - 1)


def _joined(lines: tuple[str, ...]) -> int:
    """len("\\n".join(lines))."""
    return sum(map(len, lines)) + len(lines) - 1


@functools.lru_cache(maxsize=32)
def display_sizes(target: Target) -> tuple[int, int, int, int]:
    """(lines, blank lines, len of "\\n".join(Layout.display()), characters of the non-blank
    display lines once right-stripped): what the docstring code block and the numbered
    review listing are made of. Kept for the last few targets: each action asks.

    Counted from the text with C-level string calls rather than from `Layout.of` line by line
    (a plan sizes every target of a tree): the lines are Layout's, and the indentation every
    non-blank line shares is the leading whitespace of their common prefix (any whitespace
    prefix of all of them is a prefix of that prefix)."""
    text = target.text
    lines = text.split("\n")
    # Layout pads with a tab when a later line starts with one.
    pad = "\t" if "\n\t" in text else " "
    lines[0] = pad * target.span.start_col + lines[0]
    shown_lines = [line for line in lines if line.strip()]
    # The common prefix of all lines is that of the least and the greatest, and its leading
    # whitespace is the common prefix of theirs. commonprefix compares character by character
    # in Python: a target inside a minified line is one line padded with 100,000 spaces.
    least, most = (
        (leading_ws(min(shown_lines)), leading_ws(max(shown_lines))) if shown_lines else ("", "")
    )
    shared = least if least == most else os.path.commonprefix([least, most])  # noqa: RUF071
    cut = len(shared) * len(shown_lines)
    count = len(lines)
    shown = sum(map(len, shown_lines)) - cut
    stripped = sum(map(len, map(str.rstrip, shown_lines))) - cut
    return count, count - len(shown_lines), shown + count - 1, stripped


def display_chars(target: Target) -> int:
    """len("\\n".join(Layout.of(target).display()))."""
    return display_sizes(target)[2]


def numbered_chars(target: Target) -> int:
    """len(Layout.numbered()): each line is its number padded to the widest, " | " and the
    line right-stripped, or the number and " |" alone for a blank line."""
    count, blank, _, stripped = display_sizes(target)
    width = len(str(count))
    return stripped + (count - blank) * (width + 3) + blank * (width + 2) + count - 1
