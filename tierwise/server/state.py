"""The server's session state, as plain objects every feature module can import: document
snapshots, the last run per document, review diagnostics that follow edits, code-action listings."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import attrs
from lsprotocol import types

from tierwise.core.code import Span
from tierwise.core.records import evolve
from tierwise.core.results import Finding
from tierwise.core.task import Action, Task
from tierwise.edits import match_line_endings
from tierwise.server.convert import KIND_QUICKFIX, LineIndex, diagnostic, workspace_edit

if TYPE_CHECKING:
    from tierwise.routing.router import Decision


@attrs.frozen
class Entry:
    """One listed action: its code action kind, title name, routing, and whether static helps."""

    action: Action
    kind: str
    name: str  # "Docstring", "Update docstring", "Review", ...
    decision: Decision
    static_note: str | None = None  # why the static tier would change nothing here


Plan = list[Entry]


@attrs.frozen
class Snapshot:
    """The document a task was built from: where, which version, and its exact text."""

    uri: str
    path: str
    version: int | None
    text: str


@attrs.frozen
class LastRun:
    """The last tierwise.run on a document, for tierwise.escalate."""

    task: Task
    snapshot: Snapshot
    tier: int  # the Tier value the run was answered on
    outcome: Any = None  # tierwise.engine.Outcome: what became of its edit goes to the ledger


@attrs.define
class ReviewEntry:
    """One review's findings, pinned to its target's text so they can follow edits."""

    target_text: str
    start: int  # offset of target_text in the current document text
    findings: list[tuple[int, int, Finding]]  # offsets relative to `start`
    tier: str
    model: str | None
    ledger_id: int | None = None  # the review's ledger row: a quick fix chosen is recorded on it


# The command a quick fix carries: the editor applies the fix's edit, then runs it, so the
# server learns which fix was chosen (docs/lsp.md, "Quick fixes").
FIX_CHOSEN = "tierwise.fixChosen"
OFFERED_FIXES = 512  # quick fixes remembered for that command (oldest forgotten first)


class ReviewStore:
    """tierwise diagnostics per document; they move with their code or disappear with it."""

    def __init__(self, index: Callable[..., LineIndex] = LineIndex) -> None:
        self._entries: dict[str, list[ReviewEntry]] = {}
        self._index = index  # the server's shared LineIndex per document version
        # (ledger row, finding number) -> the fix's replacement, for FIX_CHOSEN: the review
        # itself is dropped once the fix changes its code.
        self.offered: OrderedDict[tuple[int, int], str] = OrderedDict()

    def add(
        self,
        uri: str,
        text: str,
        target: Span,
        target_text: str,
        findings: tuple[Finding, ...],
        tier: str,
        model: str | None,
        ledger_id: int | None = None,
    ) -> int:
        """Record a review of the target at `target` in `text` (replacing overlapping ones);
        returns how many quick fixes its findings offer."""
        index = self._index(text)
        start, end = index.span_offsets(target)
        placed = [
            (a - start, b - start, f) for f in findings for a, b in [index.span_offsets(f.span)]
        ]
        kept = [
            e
            for e in self._entries.get(uri, [])
            if e.start + len(e.target_text) <= start or e.start >= end
        ]
        kept.append(ReviewEntry(target_text, start, placed, tier, model, ledger_id))
        self._entries[uri] = kept
        fixes = [(i, f) for i, f in enumerate(findings) if f.replacement is not None]
        if ledger_id is not None:
            for i, finding in fixes:
                self.offered[(ledger_id, i)] = finding.replacement or ""
            while len(self.offered) > OFFERED_FIXES:
                self.offered.popitem(last=False)
        return len(fixes)

    def follow(self, uri: str, text: str) -> bool:
        """Re-pin every review to the new text; drop those whose code changed. True if any moved."""
        entries = self._entries.get(uri)
        if not entries:
            return False
        changed = False
        kept: list[ReviewEntry] = []
        for entry in entries:
            if text[entry.start : entry.start + len(entry.target_text)] == entry.target_text:
                kept.append(entry)
                continue
            shift = relocate_text(entry.target_text, text)
            changed = True
            if shift is not None:
                entry.start = shift
                kept.append(entry)
        self._entries[uri] = kept
        return changed

    def clear(self, uri: str) -> bool:
        """Forget a document's reviews; True when there were any."""
        return bool(self._entries.pop(uri, None))

    def diagnostics(self, uri: str, text: str, encoding: str) -> list[types.Diagnostic]:
        """The document's tierwise diagnostics in client units."""
        index = self._index(text, encoding)
        out = []
        for entry, _a, _b, finding in self._located(uri, index):
            out.append(diagnostic(index, finding, tier=entry.tier, model=entry.model))
        return out

    def _located(self, uri: str, index: LineIndex) -> list[tuple[ReviewEntry, int, int, Finding]]:
        out = []
        for entry in self._entries.get(uri, []):
            for a, b, finding in entry.findings:
                span = index.span_of(entry.start + a, entry.start + b)
                out.append((entry, entry.start + a, entry.start + b, evolve(finding, span=span)))
        return out

    def fixes(
        self,
        uri: str,
        text: str,
        version: int | None,
        lines: tuple[int, int],
        encoding: str,
        document_changes: bool,
    ) -> list[types.CodeAction]:
        """Quick fixes for findings with a replacement on the requested lines."""
        index = self._index(text, encoding)
        actions = []
        for entry, number, finding in self._numbered(uri, index):
            if (
                finding.replacement is None
                or finding.span.end_line < lines[0]
                or finding.span.start_line > lines[1]
            ):
                continue
            diag = diagnostic(index, finding, tier=entry.tier, model=entry.model)
            new_text = match_line_endings(finding.replacement, text)  # CRLF stays CRLF
            edit = types.TextEdit(range=diag.range, new_text=new_text)
            # The edit stays on the action (the editor previews and applies it as always, with
            # no round trip first); the command runs after it, so that choosing it is seen.
            chosen = (
                types.Command(
                    title="tierwise: record the fix chosen",
                    command=FIX_CHOSEN,
                    arguments=[{"uri": uri, "request": entry.ledger_id, "fix": number}],
                )
                if entry.ledger_id is not None
                else None
            )
            actions.append(
                types.CodeAction(
                    title=f"Fix: {_short(finding.message)}",
                    kind=KIND_QUICKFIX,
                    diagnostics=[diag],
                    edit=workspace_edit(
                        [(uri, version, [edit])],
                        document_changes=document_changes,
                    ),
                    command=chosen,
                )
            )
        return actions

    def _numbered(self, uri: str, index: LineIndex) -> list[tuple[ReviewEntry, int, Finding]]:
        """Each located finding with its number in its review (as `offered` keys it)."""
        out = []
        for entry in self._entries.get(uri, []):
            for number, (a, b, finding) in enumerate(entry.findings):
                span = index.span_of(entry.start + a, entry.start + b)
                out.append((entry, number, evolve(finding, span=span)))
        return out


def relocate_text(needle: str, text: str) -> int | None:
    """The offset of the only occurrence of `needle` in `text`, else None."""
    first = text.find(needle)
    if first < 0 or text.find(needle, first + 1) >= 0:
        return None
    return first


def _short(message: str, limit: int = 70) -> str:
    line = message.strip().split("\n", 1)[0]
    return line if len(line) <= limit else line[: limit - 1] + "…"


class Listings:
    """The last few plans, by document version, cursor, filter, config and session tier."""

    def __init__(self, size: int = 32) -> None:
        self.size = size
        self._plans: OrderedDict[tuple[Any, ...], Plan] = OrderedDict()

    def get(self, key: tuple[Any, ...]) -> Plan | None:
        """A remembered plan, or None."""
        plan = self._plans.get(key)
        if plan is not None:
            self._plans.move_to_end(key)
        return plan

    def put(self, key: tuple[Any, ...], plan: Plan) -> None:
        """Remember a plan, forgetting the oldest beyond `size`."""
        self._plans[key] = plan
        while len(self._plans) > self.size:
            self._plans.popitem(last=False)

    def clear(self) -> None:
        """Forget every plan (after a run: asking again escalates, so the tiers change)."""
        self._plans.clear()
