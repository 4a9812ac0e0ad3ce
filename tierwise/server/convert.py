"""Between engine data (Span: str-character columns) and LSP objects (client position units).

LSP columns count UTF-16 code units unless client and server agreed on UTF-8 or UTF-32 at
`initialize`; every conversion here takes that encoding, so an emoji or an accented letter
before a target never shifts an edit or a diagnostic.
"""

from __future__ import annotations

import bisect
import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

from lsprotocol import types

from tierwise.core.code import Span
from tierwise.core.errors import UsageError
from tierwise.core.results import Finding, TextEdit
from tierwise.core.task import Action
from tierwise.core.text import plural

_BREAK = re.compile(r"\r\n|\r|\n")

SEVERITIES = {
    "error": types.DiagnosticSeverity.Error,
    "warning": types.DiagnosticSeverity.Warning,
    "info": types.DiagnosticSeverity.Information,
    "hint": types.DiagnosticSeverity.Hint,
}

# Code action kinds: rewrites under refactor.rewrite, whole-file work under source, the rest under
# refactor, review fixes under quickfix. `context.only` filters match on these prefixes.
KIND_DOCSTRING = "refactor.rewrite.tierwise.docstring"
KIND_RENAME = "refactor.rewrite.tierwise.rename"
KIND_QUICKFIX = "quickfix.tierwise.review"


def action_kind(action: Action, target_kind: str) -> str:
    """The code action kind of an action on a target ("module" targets are source actions)."""
    if action is Action.DOCSTRING:
        return KIND_DOCSTRING
    if action is Action.RENAME:
        return KIND_RENAME
    base = "source" if target_kind == "module" else "refactor"
    return f"{base}.tierwise.{action.value}"


def kind_allowed(kind: str, only: Sequence[str] | None) -> bool:
    """Whether a kind passes a `context.only` filter (a kind matches itself and its children)."""
    if not only:
        return True
    return any(kind == o or kind.startswith(o + ".") or o == "" for o in only)


def _units(char: str, encoding: str) -> int:
    if encoding == types.PositionEncodingKind.Utf8:
        return len(char.encode("utf-8"))
    if encoding == types.PositionEncodingKind.Utf32:
        return 1
    return 2 if ord(char) > 0xFFFF else 1


def client_length(text: str, encoding: str) -> int:
    """The length of a string in the client's position units."""
    if encoding == types.PositionEncodingKind.Utf32:
        return len(text)
    return sum(_units(c, encoding) for c in text)


class LineIndex:
    """One version of a document's text: lines as an editor counts them, offsets, conversions."""

    def __init__(self, text: str, encoding: str = types.PositionEncodingKind.Utf16) -> None:
        self.text = text
        self.encoding = str(getattr(encoding, "value", encoding))
        self.starts = [0] + [m.end() for m in _BREAK.finditer(text)]
        self.lines = _BREAK.split(text)

    def offset(self, line: int, col: int) -> int:
        """The str offset of a 0-based (line, str column); past the end clamps to the end."""
        if line >= len(self.lines):
            return len(self.text)
        return self.starts[line] + min(col, len(self.lines[line]))

    def position(self, offset: int) -> tuple[int, int]:
        """The (line, str column) of a str offset."""
        line = bisect.bisect_right(self.starts, offset) - 1
        return line, offset - self.starts[line]

    def to_client(self, line: int, col: int) -> types.Position:
        """A (line, str column) as an LSP Position; a line past the end is the end of the text."""
        if line >= len(self.lines):
            last = len(self.lines) - 1
            return types.Position(last, client_length(self.lines[last], self.encoding))
        text = self.lines[line]
        return types.Position(line, client_length(text[: min(col, len(text))], self.encoding))

    def from_client(self, position: types.Position, what: str = "position") -> tuple[int, int]:
        """An LSP Position as (line, str column); UsageError when it lies outside the text."""
        line, character = position.line, position.character
        if line < 0 or line >= len(self.lines):
            raise UsageError(
                f"{what} line {line} is outside the document: it has"
                f" {plural(len(self.lines), 'line')}, 0 to {len(self.lines) - 1}"
            )
        text = self.lines[line]
        if self.encoding == types.PositionEncodingKind.Utf32:
            col = character
        else:
            col, units = 0, 0
            while col < len(text) and units < character:
                units += _units(text[col], self.encoding)
                col += 1
            if units < character:
                col = len(text) + 1  # past the end: reported below
        if character < 0 or col > len(text):
            length = client_length(text, self.encoding)
            raise UsageError(
                f"{what} character {character} is outside line {line}: it has {length} "
                f"{self.encoding} code unit{'' if length == 1 else 's'}"
            )
        return line, col

    def to_range(self, span: Span) -> types.Range:
        """A Span as an LSP Range."""
        return types.Range(
            self.to_client(span.start_line, span.start_col),
            self.to_client(span.end_line, span.end_col),
        )

    def span_offsets(self, span: Span) -> tuple[int, int]:
        """The str offsets of a span's ends."""
        return self.offset(span.start_line, span.start_col), self.offset(
            span.end_line, span.end_col
        )

    def span_of(self, start: int, end: int) -> Span:
        """The Span between two str offsets."""
        return Span(*self.position(start), *self.position(end))


class LineIndexes:
    """The LineIndex of the last few texts, so that every stage of a request (locating the
    target, placing results, diagnostics, quick fixes) shares one per document version instead
    of indexing the whole text again (seven times per run on a 2,000-line file, before).

    A text is found by identity: the open document's source is one str object per version.
    """

    def __init__(self, size: int = 8) -> None:
        self.size = size
        self._items: OrderedDict[tuple[int, str], LineIndex] = OrderedDict()
        self._lock = threading.Lock()  # code-action listings locate in worker threads

    def get(self, text: str, encoding: str = types.PositionEncodingKind.Utf16) -> LineIndex:
        """The index of this text in this position encoding (built once)."""
        name = str(getattr(encoding, "value", encoding))
        key = (id(text), name)
        with self._lock:
            found = self._items.get(key)
            if found is not None and found.text is text:
                self._items.move_to_end(key)
                return found
        index = LineIndex(text, name)
        with self._lock:
            self._items[key] = index  # holding the text keeps its id from being reused
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return index


def text_edit(index: LineIndex, edit: TextEdit) -> types.TextEdit:
    """An engine TextEdit as an LSP TextEdit against the text it was computed for."""
    return types.TextEdit(range=index.to_range(edit.span), new_text=edit.new_text)


def workspace_edit(
    files: list[tuple[str, int | None, list[types.TextEdit]]], *, document_changes: bool
) -> types.WorkspaceEdit:
    """A WorkspaceEdit: versioned TextDocumentEdits when the client takes them, else `changes`."""
    if document_changes:
        return types.WorkspaceEdit(
            document_changes=[
                types.TextDocumentEdit(
                    text_document=types.OptionalVersionedTextDocumentIdentifier(
                        uri=uri, version=version
                    ),
                    edits=list(edits),
                )
                for uri, version, edits in files
            ]
        )
    return types.WorkspaceEdit(changes={uri: list(edits) for uri, _, edits in files})


def diagnostic(
    index: LineIndex, finding: Finding, *, tier: str, model: str | None
) -> types.Diagnostic:
    """A review finding as a tierwise diagnostic; `data` carries tier, model and any fix."""
    data: dict[str, Any] = {"tier": tier, "model": model}
    if finding.replacement is not None:
        data["replacement"] = finding.replacement
    return types.Diagnostic(
        range=index.to_range(finding.span),
        message=finding.message,
        severity=SEVERITIES.get(finding.severity, types.DiagnosticSeverity.Warning),
        code=finding.code or "review",
        source="tierwise",
        data=data,
    )


def usd_estimate(value: float) -> str:
    """A cost for a title: "$0" when free, else "~$" with enough digits to be non-zero."""
    if value <= 0:
        return "$0"
    return f"~${value:.3f}" if value >= 0.001 else f"~${value:.4f}"


def action_title(name: str, tier: str, usd: float) -> str:
    """A code action title such as "Review · frontier · ~$0.021" (`name`: handlers.display_name)."""
    return f"{name} · {tier} · {usd_estimate(usd)}"


def range_dict(value: types.Range) -> dict[str, Any]:
    """An LSP Range as plain JSON data."""
    return {
        "start": {"line": value.start.line, "character": value.start.character},
        "end": {"line": value.end.line, "character": value.end.character},
    }
