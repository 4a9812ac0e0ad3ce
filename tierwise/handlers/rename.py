"""The rename action: ask for better names, keep only valid, new, distinct identifiers."""

from __future__ import annotations

import re
from typing import Any

from tierwise.core.code import Span
from tierwise.core.errors import BadResponse, UsageError
from tierwise.core.results import RenameCandidate, RenameResult, Result
from tierwise.core.task import Action, Task
from tierwise.handlers.base import Prompt
from tierwise.handlers.parsing import Layout, find_json, is_identifier, unwrap
from tierwise.handlers.prompts import system_prompt

DEFAULT_CANDIDATES = 3
MAX_CANDIDATES = 10
# "1. `parse_token` - says what it parses" or "- parseToken: reason": a list instead of JSON.
_LIST_ITEM = re.compile(
    r"^\s*(?:\d+[.)]|[-*\u2022])\s*(?:\*\*)?`?([^\s`*:]+?)`?(?:\*\*)?\s*(?:[-\u2013\u2014:]\s*(.*))?$"
)


def candidate_count(task: Task) -> int:
    """How many names to ask for (the `candidates` option, 1 to 10)."""
    raw = task.options.get("candidates", str(DEFAULT_CANDIDATES))
    try:
        count = int(raw)
    except ValueError:
        raise UsageError(
            f"rename candidates must be a whole number, got {raw!r} (actions.rename_candidates)"
        ) from None
    return max(1, min(MAX_CANDIDATES, count))


def _is_candidates(value: Any) -> bool:
    if isinstance(value, dict):
        value = value.get("candidates", value.get("names"))
    return isinstance(value, list) and bool(value)


def _raw_candidates(reply: str) -> list[tuple[Any, Any]]:
    """(name, reason) pairs from JSON, or from a plain list when there is no JSON at all."""
    found = find_json(reply, _is_candidates)
    if found is not None:
        items = found.get("candidates", found.get("names")) if isinstance(found, dict) else found
        pairs: list[tuple[Any, Any]] = []
        assert isinstance(items, list)  # guaranteed by _is_candidates
        for item in items:
            if isinstance(item, dict):
                pairs.append((item.get("name"), item.get("reason", "")))
            elif isinstance(item, str):
                pairs.append((item, ""))
        return pairs
    pairs = []
    for line in unwrap(reply).split("\n"):
        match = _LIST_ITEM.match(line)
        if match:
            pairs.append((match.group(1), match.group(2) or ""))
    return pairs


def parse_candidates(reply: str, old_name: str, language: str, limit: int) -> list[RenameCandidate]:
    """Valid, distinct candidates other than the old name, best first; BadResponse if none."""
    pairs = _raw_candidates(reply)
    if not pairs:
        raise BadResponse(
            "rename reply had no JSON object with a 'candidates' list and no list of names"
        )
    kept: list[RenameCandidate] = []
    rejected: list[str] = []
    for raw_name, raw_reason in pairs:
        if not isinstance(raw_name, str):
            rejected.append(f"{raw_name!r} is not a string")
            continue
        # Unambiguous decorations: backticks, a call's parentheses, surrounding spaces.
        name = raw_name.strip().strip("`").strip()
        name = name.removesuffix("()")
        problem = is_identifier(name, language)
        if problem is None and name == old_name:
            problem = f"{name!r} is the current name"
        if problem is None and any(c.name == name for c in kept):
            problem = f"{name!r} is listed twice"
        if problem is not None:
            rejected.append(problem)
            continue
        reason = raw_reason.strip() if isinstance(raw_reason, str) else ""
        kept.append(RenameCandidate(name, reason))
    if not kept:
        raise BadResponse("rename reply had no usable name: " + "; ".join(rejected))
    return kept[:limit]


class RenameHandler:
    """Suggest better names for a function, method or class."""

    action: Action = Action.RENAME
    prompt_version: str = "rename-1"
    supports_static: bool = False

    def build_prompt(self, task: Task) -> Prompt:
        """System: naming rules and the JSON shape; question: the code and the current name."""
        target = task.context.target
        if target.kind == "module" or (target.kind == "selection" and target.name == "selection"):
            raise UsageError(
                f"rename needs a function, method or class; {target.path}:"
                f"{target.span.start_line + 1} is not inside one (put the cursor on a definition)"
            )
        count = candidate_count(task)
        kind = "function" if target.kind == "selection" else target.kind
        question = (
            f"Suggest {count} better name{'s' if count > 1 else ''} for the {target.language} "
            f"{kind} currently named `{target.name}`.\n"
            'Reply with JSON only: {"candidates": [{"name": ..., "reason": ...}]}\n\n'
            f"```{target.language}\n" + "\n".join(Layout.of(target).display()) + "\n```"
        )
        system = system_prompt("rename", task.options.get("extra"))
        return Prompt(system, task.context.render(), question, 150 + 60 * count)

    def parse(self, task: Task, reply: str) -> Result:
        """Keep valid, distinct, new identifiers, best first, up to the requested count."""
        target = task.context.target
        candidates = parse_candidates(reply, target.name, target.language, candidate_count(task))
        return RenameResult(target.name, tuple(candidates), target.name_span)

    def run_static(self, task: Task) -> Result:
        """Renaming needs judgement: there is no static tier."""
        raise UsageError(
            "rename has no static tier (it needs a model); pick local, budget, mid or frontier"
        )

    def expected_output_tokens(self, task: Task) -> int:
        """About 120 tokens for three names with reasons."""
        return 120 + 30 * max(0, candidate_count(task) - DEFAULT_CANDIDATES)

    def relativize(self, task: Task, result: Result) -> Result:
        """Store the name position relative to the target's first line."""
        if not isinstance(result, RenameResult):
            raise TypeError(f"rename handler got a {type(result).__name__}")
        span = result.name_span
        if span is None:
            return result
        start = task.context.target.span.start_line
        relative = Span(
            span.start_line - start, span.start_col, span.end_line - start, span.end_col
        )
        return RenameResult(result.old_name, result.candidates, relative)

    def adjust(self, task: Task, result: Result) -> Result:
        """Use this task's own name position (exact), else shift the stored one."""
        if not isinstance(result, RenameResult):
            raise TypeError(f"rename handler got a {type(result).__name__}")
        target = task.context.target
        span = target.name_span
        if span is None and result.name_span is not None:
            old = result.name_span
            start = target.span.start_line
            span = Span(old.start_line + start, old.start_col, old.end_line + start, old.end_col)
        candidates = tuple(c for c in result.candidates if c.name != target.name)
        if not candidates:  # the engine treats a failing adjust as a cache miss
            raise BadResponse(
                f"every cached rename candidate equals the current name {target.name!r}"
            )
        return RenameResult(target.name, candidates, span)


handler = RenameHandler()
