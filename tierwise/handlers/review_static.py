"""The static review tier: ruff on the target's text, mapped to findings at document positions.

Ruff has no Python API, so it runs as a subprocess on stdin (6-19 ms a buffer here). It runs
`--isolated`, ignoring the repository's ruff configuration, because:
- the rule set below is chosen for a fragment (one function, not a file), and a project's
  `select`/`ignore`/`per-file-ignores` would mix with it in ways that are hard to predict;
- a project config written for another ruff version, or a broken one, would make every static
  review fail with a config error that has nothing to do with the code under review;
- the same code then gets the same findings in every repository.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from tierwise.core.code import Span, Target
from tierwise.core.errors import UsageError
from tierwise.core.results import Finding
from tierwise.handlers.parsing import Layout

RUFF_SELECT = "E,F,W,B,S,UP,SIM,PL"
# Ignored because the target is a fragment or because they fire on most code without a defect:
#   E501 line length (the project's formatter decides), F821/F822 undefined names (module-level
#   names are outside the fragment), E402 import position and W292 final newline (fragment
#   edges), PLC0415 function-level imports (usually deliberate lazy imports), PLR2004 magic
#   values, S101 assert, S603/S607 every subprocess call regardless of its input.
RUFF_IGNORE = "E501,F821,F822,E402,W292,PLC0415,PLR2004,S101,S603,S607"
RUFF_TIMEOUT_S = 30
_SYNTAX_CODES = frozenset({"invalid-syntax", "E999", "syntax-error"})


def find_ruff() -> list[str]:
    """The command that runs ruff: next to this Python, on PATH, or `python -m ruff`."""
    name = "ruff.exe" if os.name == "nt" else "ruff"
    sibling = Path(sys.executable).parent / name
    if sibling.is_file():
        return [str(sibling)]
    on_path = shutil.which("ruff")
    if on_path:
        return [on_path]
    if importlib.util.find_spec("ruff") is not None:
        return [sys.executable, "-m", "ruff"]
    raise UsageError(
        "static review needs ruff, which is not installed: run `python -m pip install ruff` in "
        "the environment that runs tierwise, or pick a model tier"
    )


class _Source:
    """The text handed to ruff and how its rows and columns map back to the document."""

    def __init__(self, target: Target) -> None:
        self.layout = Layout.of(target)
        lines = self.layout.lines
        first_indent = len(lines[0]) - len(lines[0].lstrip(" \t"))
        if self.layout.common_indent == first_indent:
            self.text = "\n".join(self.layout.display())
            self.row_offset, self.col_offset = 0, self.layout.common_indent
            self.prefix = lines[0][:first_indent]
        else:
            # Some line sits left of the first (a multi-line string's content): dedenting would
            # leave the first line indented, so nest the code under a harmless block instead.
            self.text = "if True:\n" + "\n".join(lines)
            self.row_offset, self.col_offset, self.prefix = 1, 0, ""
        self.start_line = target.span.start_line

    def position(self, location: dict[str, Any]) -> tuple[int, int] | None:
        """A ruff 1-based location as a 0-based document (line, column); None on the wrapper."""
        row = int(location["row"]) - 1 - self.row_offset
        if row < 0:
            return None
        return self.start_line + row, int(location["column"]) - 1 + self.col_offset

    def span(self, start: dict[str, Any], end: dict[str, Any]) -> Span | None:
        """A document span from ruff locations."""
        begin, finish = self.position(start), self.position(end)
        if begin is None or finish is None:
            return None
        return Span(*begin, *finish)

    def content(self, text: str) -> str:
        """Fix text in document indentation (ruff wrote it for the dedented code)."""
        head, *rest = text.split("\n")
        return "\n".join([head, *(self.prefix + line if line else line for line in rest)])


def run_ruff(target: Target) -> tuple[_Source, list[dict[str, Any]]]:
    """Ruff's JSON diagnostics for the target's text."""
    if target.language != "python":
        raise UsageError("static review supports Python only (ruff); pick a model tier")
    source = _Source(target)
    filename = target.path if target.path.endswith((".py", ".pyi")) else "target.py"
    command = [
        *find_ruff(),
        "check",
        "--output-format=json",
        "--no-cache",
        "--isolated",
        "--exit-zero",
        f"--select={RUFF_SELECT}",
        f"--ignore={RUFF_IGNORE}",
        "--stdin-filename",
        filename,
        "-",
    ]
    try:
        done = subprocess.run(
            command,
            input=source.text.encode("utf-8"),
            capture_output=True,
            timeout=RUFF_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise UsageError(
            f"ruff did not finish within {RUFF_TIMEOUT_S} s on {target.path}"
        ) from None
    except OSError as exc:
        raise UsageError(f"could not run ruff ({' '.join(command[:3])}): {exc}") from None
    if done.returncode != 0:
        detail = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise UsageError(
            f"ruff failed with exit code {done.returncode}: {detail[0] if detail else 'no output'}"
        )
    try:
        items = json.loads(done.stdout or b"[]")
    except json.JSONDecodeError as exc:
        raise UsageError(
            f"ruff printed output that is not JSON ({exc}); is it ruff >= 0.6?"
        ) from None
    if not isinstance(items, list):
        raise UsageError("ruff printed JSON that is not a list of diagnostics; is it ruff >= 0.6?")
    return source, [item for item in items if isinstance(item, dict)]


def severity_for(code: str) -> str:
    """Syntax and likely-crash codes are errors, bugs and security warnings, the rest info."""
    if code in _SYNTAX_CODES or code.startswith(("E9", "PLE", "F63", "F7", "F82")):
        return "error"
    if code.startswith(("F", "B", "S", "PLW")):
        return "warning"
    return "info"


def _finding(source: _Source, item: dict[str, Any]) -> Finding | None:
    code = str(item.get("code") or "invalid-syntax")
    syntax = code in _SYNTAX_CODES
    span = source.span(item["location"], item["end_location"])
    if span is None:
        return None
    message = f"syntax error: {item['message']}" if syntax else f"{code}: {item['message']}"
    replacement = None
    fix = item.get("fix")
    edits = fix.get("edits") if isinstance(fix, dict) else None
    if (
        isinstance(fix, dict)
        and fix.get("applicability") != "display-only"
        and edits
        and len(edits) == 1
    ):
        edit = edits[0]
        first_row, last_row = item["location"]["row"], item["end_location"]["row"]
        # Only a single edit within the diagnostic's own lines (a line deletion ends at the start
        # of the next line) becomes a quick fix: the finding's span is then the edit's range.
        inside = (
            first_row <= edit["location"]["row"] and edit["end_location"]["row"] <= last_row + 1
        )
        edit_span = source.span(edit["location"], edit["end_location"])
        if inside and edit_span is not None:
            span, replacement = edit_span, source.content(str(edit.get("content", "")))
    return Finding(span, severity_for(code), message, replacement, "syntax" if syntax else code)


def ruff_findings(target: Target) -> list[Finding]:
    """Findings at absolute document positions; only the first syntax error (later ones cascade)."""
    source, items = run_ruff(target)
    findings: list[Finding] = []
    seen_syntax = False
    for item in items:
        try:
            finding = _finding(source, item)
        except (KeyError, TypeError, ValueError):
            continue  # a diagnostic shape this ruff version does not use; skip, don't crash
        if finding is None or (finding.code == "syntax" and seen_syntax):
            continue
        seen_syntax = seen_syntax or finding.code == "syntax"
        findings.append(finding)
    findings.sort(key=lambda f: (f.span.start_line, f.span.start_col))
    return findings


def findings_text(target: Target, findings: list[Finding]) -> str:
    """Findings as lines with target-relative 1-based line numbers (as the review prompt shows)."""
    rows = []
    for finding in findings:
        first = finding.span.start_line - target.span.start_line + 1
        end_line = finding.span.end_line
        if finding.span.end_col == 0 and end_line > finding.span.start_line:
            end_line -= 1  # an end at the next line's start (a whole-line fix) is still this line
        last = end_line - target.span.start_line + 1
        where = f"line {first}" if last <= first else f"lines {first}-{last}"
        rows.append(f"- {where} ({finding.severity}): {finding.message}")
    return "\n".join(rows)
