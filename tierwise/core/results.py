"""The typed result of each action, and its plain-JSON form for the cache, CLI and server."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tierwise.core.code import Span
from tierwise.core.records import FrozenRecord, Record, setfield
from tierwise.core.task import Action


class TextEdit(FrozenRecord):
    """Replace `span` with `new_text` (an insertion has an empty span)."""

    __slots__ = ("span", "new_text")
    span: Span
    new_text: str

    def __init__(self, span: Span, new_text: str) -> None:
        setfield(self, "span", span)
        setfield(self, "new_text", new_text)


class DocstringResult(FrozenRecord):
    """A docstring and the edit that puts it in place.

    `existing` says the target already had one (the edit updates it, and says so); `edit` is
    None when there is nothing to change, and `note` then says why (it also says what a
    partial update added).
    """

    __slots__ = ("docstring", "edit", "style", "existing", "note")
    docstring: str
    edit: TextEdit | None
    style: str
    existing: bool
    note: str

    def __init__(
        self,
        docstring: str,
        edit: TextEdit | None,
        style: str,
        existing: bool = False,
        note: str = "",
    ) -> None:
        setfield(self, "docstring", docstring)
        setfield(self, "edit", edit)
        setfield(self, "style", style)
        setfield(self, "existing", existing)
        setfield(self, "note", note)


class RenameCandidate(FrozenRecord):
    """One proposed name with the reason for it."""

    __slots__ = ("name", "reason")
    name: str
    reason: str

    def __init__(self, name: str, reason: str) -> None:
        setfield(self, "name", name)
        setfield(self, "reason", reason)


class RenameResult(FrozenRecord):
    """Proposed names for the target's symbol, best first."""

    __slots__ = ("old_name", "candidates", "name_span")
    old_name: str
    candidates: tuple[RenameCandidate, ...]
    name_span: Span | None

    def __init__(
        self, old_name: str, candidates: tuple[RenameCandidate, ...], name_span: Span | None = None
    ) -> None:
        setfield(self, "old_name", old_name)
        setfield(self, "candidates", candidates)
        setfield(self, "name_span", name_span)


class MarkdownResult(FrozenRecord):
    """A markdown document (explain, design)."""

    __slots__ = ("title", "markdown")
    title: str
    markdown: str

    def __init__(self, title: str, markdown: str) -> None:
        setfield(self, "title", title)
        setfield(self, "markdown", markdown)


class Finding(FrozenRecord):
    """One review finding; `replacement`, when present, replaces `span` as a quick fix."""

    __slots__ = ("span", "severity", "message", "replacement", "code")
    span: Span
    severity: str  # "error" | "warning" | "info" | "hint"
    message: str
    replacement: str | None
    code: str | None

    def __init__(
        self,
        span: Span,
        severity: str,
        message: str,
        replacement: str | None = None,
        code: str | None = None,
    ) -> None:
        setfield(self, "span", span)
        setfield(self, "severity", severity)
        setfield(self, "message", message)
        setfield(self, "replacement", replacement)
        setfield(self, "code", code)


class ReviewResult(FrozenRecord):
    """Review findings for the target."""

    __slots__ = ("findings",)
    findings: tuple[Finding, ...]

    def __init__(self, findings: tuple[Finding, ...]) -> None:
        setfield(self, "findings", findings)


Result = DocstringResult | RenameResult | MarkdownResult | ReviewResult

RESULT_TYPES: dict[Action, type[Any]] = {
    Action.DOCSTRING: DocstringResult,
    Action.RENAME: RenameResult,
    Action.EXPLAIN: MarkdownResult,
    Action.DESIGN: MarkdownResult,
    Action.REVIEW: ReviewResult,
}


def result_to_dict(result: Result) -> dict[str, Any]:
    """Serialise a result to plain JSON-able data (for the cache, the CLI and the server)."""
    data: dict[str, Any] = _plain(result)
    return data


def _plain(value: Any) -> Any:
    # The form cattrs gave the attrs classes these were: records as objects, tuples as lists.
    if isinstance(value, Record):
        return {name: _plain(getattr(value, name)) for name in value.__slots__}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value


def result_from_dict(action: Action, data: dict[str, Any]) -> Result:
    """Rebuild a result of the action's type from `result_to_dict` output (a KeyError,
    TypeError or ValueError for data of another shape: the cache treats it as a miss)."""
    return _BUILDERS[RESULT_TYPES[action]](data)


# Built as cattrs built them: text through str(), flags through bool(), line and column numbers
# through int(), a missing optional key as its default, unknown keys ignored.
def _span(d: dict[str, Any]) -> Span:
    return Span(int(d["start_line"]), int(d["start_col"]), int(d["end_line"]), int(d["end_col"]))


def _text_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


def _edit(d: dict[str, Any]) -> TextEdit:
    return TextEdit(_span(d["span"]), str(d["new_text"]))


def _docstring(d: dict[str, Any]) -> DocstringResult:
    edit = d["edit"]
    return DocstringResult(
        str(d["docstring"]),
        None if edit is None else _edit(edit),
        str(d["style"]),
        bool(d.get("existing", False)),
        str(d.get("note", "")),
    )


def _rename(d: dict[str, Any]) -> RenameResult:
    span = d.get("name_span")
    return RenameResult(
        str(d["old_name"]),
        tuple(RenameCandidate(str(c["name"]), str(c["reason"])) for c in d["candidates"]),
        None if span is None else _span(span),
    )


def _markdown(d: dict[str, Any]) -> MarkdownResult:
    return MarkdownResult(str(d["title"]), str(d["markdown"]))


def _finding(d: dict[str, Any]) -> Finding:
    return Finding(
        _span(d["span"]),
        str(d["severity"]),
        str(d["message"]),
        _text_or_none(d.get("replacement")),
        _text_or_none(d.get("code")),
    )


def _review(d: dict[str, Any]) -> ReviewResult:
    return ReviewResult(tuple(_finding(f) for f in d["findings"]))


_BUILDERS: dict[type[Any], Callable[[dict[str, Any]], Result]] = {
    DocstringResult: _docstring,
    RenameResult: _rename,
    MarkdownResult: _markdown,
    ReviewResult: _review,
}
