"""Task and result types shared by every action, and the handler protocol."""

from __future__ import annotations

import enum
from typing import Any, Protocol

import attrs
import cattrs

from tierwise.context.types import CodeContext, Span
from tierwise.errors import UsageError
from tierwise.routing.tiers import Tier


class Action(enum.StrEnum):
    """The five actions."""

    DOCSTRING = "docstring"
    RENAME = "rename"
    EXPLAIN = "explain"
    REVIEW = "review"
    DESIGN = "design"

    @classmethod
    def parse(cls, value: str | Action) -> Action:
        """Parse an action name, raising UsageError with the valid names on failure."""
        try:
            return cls(str(value).strip().lower())
        except ValueError:
            names = ", ".join(a.value for a in cls)
            raise UsageError(f"unknown action {value!r}; expected one of: {names}") from None


@attrs.frozen
class Task:
    """One request: an action on a target, with the per-request options."""

    action: Action
    context: CodeContext
    tier: Tier | None = None  # per-request override
    refresh: bool = False
    options: dict[str, str] = attrs.field(factory=dict)  # e.g. {"style": "google"}
    doc_version: int | None = None
    uri: str | None = None


@attrs.frozen
class Prompt:
    """A prompt in cache-friendly order: stable system, then file context, then the volatile ask."""

    system: str
    context: str
    question: str
    max_output_tokens: int


@attrs.frozen
class TextEdit:
    """Replace `span` with `new_text` (an insertion has an empty span)."""

    span: Span
    new_text: str


@attrs.frozen
class DocstringResult:
    """A docstring and the edit that puts it in place."""

    docstring: str
    edit: TextEdit
    style: str


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

_converter = cattrs.Converter()


def result_to_dict(result: Result) -> dict[str, Any]:
    """Serialise a result to plain JSON-able data (for the cache, the CLI and the server)."""
    data: dict[str, Any] = _converter.unstructure(result)
    return data


def result_from_dict(action: Action, data: dict[str, Any]) -> Result:
    """Rebuild a result of the action's type from `result_to_dict` output."""
    out: Result = _converter.structure(data, RESULT_TYPES[action])
    return out


class Handler(Protocol):
    """What every action module provides."""

    action: Action
    prompt_version: str  # bump when the prompt changes so old cache entries stop matching
    supports_static: bool

    def build_prompt(self, task: Task) -> Prompt:
        """Build the prompt for a model tier."""
        ...

    def parse(self, task: Task, reply: str) -> Result:
        """Turn the model's reply into a typed result, or raise BadResponse."""
        ...

    def run_static(self, task: Task) -> Result:
        """Produce a deterministic result with no model (only when supports_static)."""
        ...

    def expected_output_tokens(self, task: Task) -> int:
        """A typical output size, used for cost estimates before the call."""
        ...

    def relativize(self, task: Task, result: Result) -> Result:
        """Make positions relative to the target's first line, so a cached result can move."""
        ...

    def adjust(self, task: Task, result: Result) -> Result:
        """Re-anchor a relativized (possibly cached) result onto this task's exact positions."""
        ...
