"""The typed result of each action, and its plain-JSON form for the cache, CLI and server."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

import attrs

from tierwise.core.code import Span
from tierwise.core.task import Action

if TYPE_CHECKING:
    import cattrs


@attrs.frozen
class TextEdit:
    """Replace `span` with `new_text` (an insertion has an empty span)."""

    span: Span
    new_text: str


@attrs.frozen
class DocstringResult:
    """A docstring and the edit that puts it in place.

    `existing` says the target already had one (the edit updates it, and says so); `edit` is
    None when there is nothing to change, and `note` then says why (it also says what a
    partial update added).
    """

    docstring: str
    edit: TextEdit | None
    style: str
    existing: bool = False
    note: str = ""


@attrs.frozen
class RenameCandidate:
    """One proposed name with the reason for it."""

    name: str
    reason: str


@attrs.frozen
class RenameResult:
    """Proposed names for the target's symbol, best first."""

    old_name: str
    candidates: tuple[RenameCandidate, ...]
    name_span: Span | None = None


@attrs.frozen
class MarkdownResult:
    """A markdown document (explain, design)."""

    title: str
    markdown: str


@attrs.frozen
class Finding:
    """One review finding; `replacement`, when present, replaces `span` as a quick fix."""

    span: Span
    severity: str  # "error" | "warning" | "info" | "hint"
    message: str
    replacement: str | None = None
    code: str | None = None


@attrs.frozen
class ReviewResult:
    """Review findings for the target."""

    findings: tuple[Finding, ...]


Result = DocstringResult | RenameResult | MarkdownResult | ReviewResult

RESULT_TYPES: dict[Action, type[Any]] = {
    Action.DOCSTRING: DocstringResult,
    Action.RENAME: RenameResult,
    Action.EXPLAIN: MarkdownResult,
    Action.DESIGN: MarkdownResult,
    Action.REVIEW: ReviewResult,
}


@functools.cache
def _converter() -> cattrs.Converter:
    # Built on first use: importing cattrs (and the inspect and typing machinery it pulls in)
    # is a fifth of `tierwise route`, which never serialises a result.
    import cattrs

    converter = cattrs.Converter()
    # Span is a record, not an attrs class: the same plain form as when it was one (the cache
    # holds results in it), and the same int conversion on the way back.
    converter.register_unstructure_hook(
        Span, lambda s: {name: getattr(s, name) for name in Span.__slots__}
    )
    converter.register_structure_hook(
        Span,
        lambda d, _: Span(
            int(d["start_line"]), int(d["start_col"]), int(d["end_line"]), int(d["end_col"])
        ),
    )
    return converter


def result_to_dict(result: Result) -> dict[str, Any]:
    """Serialise a result to plain JSON-able data (for the cache, the CLI and the server)."""
    data: dict[str, Any] = _converter().unstructure(result)
    return data


def result_from_dict(action: Action, data: dict[str, Any]) -> Result:
    """Rebuild a result of the action's type from `result_to_dict` output."""
    out: Result = _converter().structure(data, RESULT_TYPES[action])
    return out
