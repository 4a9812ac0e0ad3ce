"""The review action: numbered code in, JSON findings out; ruff for the static tier."""

from __future__ import annotations

import functools
import re
import textwrap
from typing import Any

from tierwise.core.code import Span, Target
from tierwise.core.errors import BadResponse
from tierwise.core.results import Finding, Result, ReviewResult
from tierwise.core.task import Action, Task
from tierwise.handlers.base import Prompt
from tierwise.handlers.parsing import Layout, fenced_blocks, find_json
from tierwise.handlers.prompts import system_prompt
from tierwise.handlers.sizing import context_chars, numbered_chars

SEVERITIES = ("error", "warning", "info", "hint")
_SEVERITY_ALIASES = {
    "critical": "error",
    "blocker": "error",
    "fatal": "error",
    "high": "error",
    "severe": "error",
    "bug": "error",
    "security": "error",
    "warn": "warning",
    "major": "warning",
    "medium": "warning",
    "moderate": "warning",
    "minor": "info",
    "low": "info",
    "information": "info",
    "note": "info",
    "suggestion": "info",
    "style": "hint",
    "nit": "hint",
    "nitpick": "hint",
    "trivial": "hint",
}
_MESSAGE_KEYS = ("message", "description", "issue", "text", "title")
_NUMBERED = re.compile(r"^\s*\d+\s*\| ?")


def map_severity(value: Any) -> str:
    """One of error/warning/info/hint; a severity we do not know becomes a warning."""
    name = str(value or "").strip().lower()
    if name in SEVERITIES:
        return name
    # Unknown: the model thought it worth reporting, so show it, without calling it an error.
    return _SEVERITY_ALIASES.get(name, "warning")


def _is_findings(value: Any) -> bool:
    if isinstance(value, dict):
        return isinstance(value.get("findings"), list)
    return (
        bool(value)
        and isinstance(value, list)
        and all(isinstance(v, dict) and "line" in v for v in value)
    )


def _number(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
        return int(value)
    return None


_LINE_TEXT = re.compile(r"\s*(?:lines?\s*|L)?(\d+)(?:\s*(?:-|\u2013|to|\.\.)\s*(\d+))?\s*", re.I)


def _line_range(item: dict[str, Any]) -> tuple[int, int] | None:
    """(first, last) 1-based lines from "line"/"end_line", also accepting "12-14" and "L12"."""
    raw = item.get("line", item.get("start_line"))
    first = _number(raw)
    last = _number(item.get("end_line"))
    if first is None and isinstance(raw, str):
        found = _LINE_TEXT.fullmatch(raw)
        if found is None:
            return None
        first = int(found.group(1))
        if last is None and found.group(2):
            last = int(found.group(2))
    if first is None:
        return None
    return first, max(first, last if last is not None else first)


def _clean_replacement(text: str) -> str:
    """The code of a replacement: no fences, no copied line numbers, no trailing newline."""
    blocks = fenced_blocks(text)
    if blocks:
        text = blocks[0][1]
    lines = text.rstrip("\n").split("\n")
    if all(_NUMBERED.match(line) for line in lines if line.strip()):
        lines = [_NUMBERED.sub("", line, count=1) for line in lines]
    return "\n".join(lines)


def place(
    layout: Layout, first: int, last: int, replacement: str | None
) -> tuple[Span, str | None]:
    """The document span for target-relative lines first..last and the re-indented replacement.

    The span runs from the first line's indentation to the end of the last line, so the
    replacement's first line goes in unindented and later lines get the document's indentation
    (whatever indentation the model used, only its relative indentation is kept).
    """
    start = layout.start_line
    indent = layout.indent(first)
    span = Span(start + first, len(indent), start + last, layout.end_col(last))
    if replacement is None:
        return span, None
    code = _clean_replacement(replacement)
    if not code.strip():  # delete the lines, newline included
        return Span(start + first, 0, start + last + 1, 0), ""
    lines = textwrap.dedent(code).split("\n")
    first_rel = len(lines[0]) - len(lines[0].lstrip(" \t"))
    base = indent[: max(0, len(indent) - first_rel)]
    rest = [base + line if line.strip() else "" for line in lines[1:]]
    return span, "\n".join([lines[0].lstrip(" \t"), *rest])


def parse_findings(reply: str, target: Target) -> list[Finding]:
    """Findings from a review reply; BadResponse when there is no usable findings list."""
    found = find_json(reply, _is_findings)
    if found is None:
        raise BadResponse("review reply had no JSON object with a 'findings' list")
    items = found["findings"] if isinstance(found, dict) else found
    layout = Layout.of(target)
    count = len(layout.lines)
    findings: list[Finding] = []
    dropped: list[str] = []
    for number, item in enumerate(items, 1):
        lines = _line_range(item) if isinstance(item, dict) else None
        if not isinstance(item, dict) or lines is None:
            dropped.append(f"finding {number} has no line number")
            continue
        message = next(
            (
                item[k].strip()
                for k in _MESSAGE_KEYS
                if isinstance(item.get(k), str) and item[k].strip()
            ),
            "",
        )
        if not message:
            dropped.append(f"finding {number} has no message")
            continue
        first, last = lines
        # A finding that starts outside the numbered lines is dropped: we cannot tell which code
        # it meant. One that only ends past the last line is clamped to the target, and loses
        # its replacement, which was written for lines we do not have.
        if not 1 <= first <= count:
            dropped.append(
                f"finding {number} points at line {first}, outside the {count} lines shown"
            )
            continue
        replacement = item.get("replacement")
        if last > count:
            last, replacement = count, None
        if not isinstance(replacement, str):
            replacement = None
        span, fix = place(layout, first - 1, last - 1, replacement)
        findings.append(Finding(span, map_severity(item.get("severity")), message, fix))
    if items and not findings:
        raise BadResponse(
            f"review reply had {len(items)} finding(s) but none usable: " + "; ".join(dropped)
        )
    return findings


def _relative(layout: Layout, line: int, col: int) -> tuple[int, int]:
    """(line, column) relative to the target; the column counts from the line's indentation,
    so a re-indented copy of the code gets the same spot. -1 means "column 0"."""
    rel = line - layout.start_line
    if 0 <= rel <= layout.last:
        width = len(layout.indent(rel))
        return rel, col - width if col >= width else -1
    return rel, -1 if col == 0 else col


def _absolute(layout: Layout, rel: int, col: int, *, end: bool) -> tuple[int, int]:
    if rel > layout.last:  # the stored code was longer: clamp into this target
        if end and col == -1:
            return layout.start_line + layout.last + 1, 0
        return layout.start_line + layout.last, layout.end_col(layout.last)
    rel = max(0, rel)
    if col == -1:
        return layout.start_line + rel, 0
    return layout.start_line + rel, min(len(layout.indent(rel)) + col, layout.end_col(rel))


def _reindent(text: str | None, old: str, new: str) -> str | None:
    if text is None or "\n" not in text:
        return text
    head, *rest = text.split("\n")
    return "\n".join([head, *(new + line.removeprefix(old) if line else line for line in rest)])


_REPLY = 'Reply with JSON only: {"findings": [...]}'


@functools.lru_cache(maxsize=16)
def _system(extra: str | None) -> str:
    """The review system prompt (the same for every target)."""
    return system_prompt("review", extra)


def _question_parts(task: Task) -> tuple[str, list[str]]:
    """The question's first part, and the linter's hints as a part (when there are any)."""
    target = task.context.target
    head = f"Review this {target.language} {target.kind} `{target.name}` from {target.path}."
    hints = task.options.get("hints", "").strip()
    if not hints:
        return head, []
    return head, [
        "A linter already reported these (line numbers as below); confirm, refine or "
        "dismiss them, and do not repeat them unless you add something:\n" + hints
    ]


class ReviewHandler:
    """Find bugs, risks and problems in the target."""

    action: Action = Action.REVIEW
    prompt_version: str = "review-1"
    supports_static: bool = True

    def build_prompt(self, task: Task) -> Prompt:
        """System: the review rules and JSON shape; question: numbered code and any lint hints."""
        target = task.context.target
        layout = Layout.of(target)
        head, hints = _question_parts(task)
        parts = [head, *hints]
        parts.append(f"```{target.language}\n{layout.numbered()}\n```")
        parts.append(_REPLY)
        system = _system(task.options.get("extra"))
        expected = self.expected_output_tokens(task)
        return Prompt(system, task.context.render(), "\n\n".join(parts), max(800, 2 * expected))

    def prompt_chars(self, task: Task) -> int:
        """The length of build_prompt's system, context and question, counted without
        building them (exact: the same pieces, handlers/sizing.py)."""
        target = task.context.target
        head, hints = _question_parts(task)
        code = len(f"```{target.language}\n") + numbered_chars(target) + len("\n```")
        question = len(head) + sum(map(len, hints)) + code + len(_REPLY) + 2 * (2 + len(hints))
        return len(_system(task.options.get("extra"))) + context_chars(task.context) + question

    def parse(self, task: Task, reply: str) -> Result:
        """Findings at document positions, with lines clamped or dropped as parse_findings says."""
        return ReviewResult(tuple(parse_findings(reply, task.context.target)))

    def run_static(self, task: Task) -> Result:
        """Ruff findings (Python only)."""
        # Here, not at import: routing a review (route, plan, listings) never runs ruff.
        from tierwise.handlers.review_static import ruff_findings

        return ReviewResult(tuple(ruff_findings(task.context.target)))

    def static_findings_text(self, task: Task) -> str:
        """Ruff findings as text for a model review's prompt ("" when there are none)."""
        from tierwise.handlers.review_static import findings_text, ruff_findings

        target = task.context.target
        return findings_text(target, ruff_findings(target))

    def expected_output_tokens(self, task: Task) -> int:
        """About 350 tokens plus one per target line."""
        return 350 + len(task.context.target.text.split("\n"))

    def relativize(self, task: Task, result: Result) -> Result:
        """Positions relative to the target's first line and each line's indentation."""
        if not isinstance(result, ReviewResult):
            raise TypeError(f"review handler got a {type(result).__name__}")
        layout = Layout.of(task.context.target)
        moved = []
        for f in result.findings:
            start = _relative(layout, f.span.start_line, f.span.start_col)
            end = _relative(layout, f.span.end_line, f.span.end_col)
            base = layout.indent(start[0]) if 0 <= start[0] <= layout.last else ""
            fix = _reindent(f.replacement, base, "")
            moved.append(Finding(Span(*start, *end), f.severity, f.message, fix, f.code))
        return ReviewResult(tuple(moved))

    def adjust(self, task: Task, result: Result) -> Result:
        """Map relative positions onto this task's target, clamping lines that fall outside."""
        if not isinstance(result, ReviewResult):
            raise TypeError(f"review handler got a {type(result).__name__}")
        layout = Layout.of(task.context.target)
        placed = []
        for f in result.findings:
            start = _absolute(layout, f.span.start_line, f.span.start_col, end=False)
            end = _absolute(layout, f.span.end_line, f.span.end_col, end=True)
            end = max(start, end)
            base = layout.indent(min(max(0, f.span.start_line), layout.last))
            fix = _reindent(f.replacement, "", base)
            placed.append(Finding(Span(*start, *end), f.severity, f.message, fix, f.code))
        return ReviewResult(tuple(placed))


handler = ReviewHandler()
