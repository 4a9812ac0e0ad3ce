"""Outcomes as native LSP: safe versioned edits, review diagnostics with fixes, markdown.

An edit is only ever sent for the document version it was computed for, or for the current
version after the exact text it was computed from was found again, once, in the new text.
"""

from __future__ import annotations

import hashlib
import logging
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
from lsprotocol import types
from pygls.uris import from_fs_path

from tierwise.context.types import Span
from tierwise.handlers.base import (
    DocstringResult,
    Finding,
    MarkdownResult,
    RenameResult,
    Task,
)
from tierwise.server.convert import KIND_QUICKFIX, LineIndex, diagnostic, workspace_edit

if TYPE_CHECKING:
    from tierwise.server.app import TierwiseServer

logger = logging.getLogger(__name__)


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


def relocate(old: str, new: str, start: int, end: int) -> int | None:
    """How far old[start:end] moved in `new`: None unless it occurs there exactly once."""
    region = old[start:end]
    if not region:
        return None
    first = new.find(region)
    if first < 0 or new.find(region, first + 1) >= 0:
        return None
    return first - start


def current_document(server: TierwiseServer, uri: str) -> Any | None:
    """The open document for a URI, or None when the client closed it."""
    return server.workspace.text_documents.get(uri)


def place(
    server: TierwiseServer, snap: Snapshot, anchor: Span, span: Span
) -> tuple[Span, Any] | None:
    """Map `span` (in the snapshot) onto the current document, following the text that covers
    both `anchor` and `span`.

    Returns the span in the current text and the document, or None when the text moved in a
    way we cannot follow (edited, deleted, or now ambiguous) or the document was closed.
    """
    doc = current_document(server, snap.uri)
    if doc is None:
        return None
    old = LineIndex(snap.text)
    a0, a1 = old.span_offsets(anchor)
    s0, s1 = old.span_offsets(span)
    if doc.version == snap.version and doc.source == snap.text:
        return span, doc
    shift = relocate(snap.text, doc.source, min(a0, s0), max(a1, s1))
    if shift is None:
        return None
    return LineIndex(doc.source).span_of(s0 + shift, s1 + shift), doc


async def apply_edits(
    server: TierwiseServer, label: str, files: list[tuple[str, int | None, list[types.TextEdit]]]
) -> dict[str, Any]:
    """Send a WorkspaceEdit through workspace/applyEdit (versioned when the client takes it)."""
    edit = workspace_edit(
        files, document_changes=server.client_supports("workspace.workspace_edit.document_changes")
    )
    plain = server.converter.unstructure(edit)  # the edit as JSON, for the result
    if not server.client_supports("workspace.apply_edit"):
        return {
            "applied": False,
            "edit": plain,
            "reason": "the client does not support workspace/applyEdit",
        }
    response = await server.workspace_apply_edit_async(
        types.ApplyWorkspaceEditParams(edit=edit, label=label)
    )
    out: dict[str, Any] = {"applied": bool(response.applied), "edit": plain}
    if not response.applied:
        out["reason"] = response.failure_reason or "the client did not apply the edit"
    return out


async def apply_docstring(
    server: TierwiseServer, snap: Snapshot, task: Task, result: DocstringResult
) -> dict[str, Any]:
    """Insert or replace the docstring, re-anchored when only other text changed."""
    placed = place(server, snap, task.context.target.span, result.edit.span)
    if placed is None:
        message = (
            f"{Path(snap.path).name} changed while the docstring for {task.context.target.name} "
            "was being written: not applied; run it again"
        )
        server.tell(message)
        return {"applied": False, "reason": message}
    span, doc = placed
    index = LineIndex(doc.source, server.encoding)
    edit = types.TextEdit(range=index.to_range(span), new_text=result.edit.new_text)
    return await apply_edits(
        server,
        f"tierwise: docstring for {task.context.target.name}",
        [(snap.uri, doc.version, [edit])],
    )


# -- review diagnostics ---------------------------------------------------------------------------


@attrs.define
class ReviewEntry:
    """One review's findings, pinned to its target's text so they can follow edits."""

    target_text: str
    start: int  # offset of target_text in the current document text
    findings: list[tuple[int, int, Finding]]  # offsets relative to `start`
    tier: str
    model: str | None


class ReviewStore:
    """tierwise diagnostics per document; they move with their code or disappear with it."""

    def __init__(self) -> None:
        self._entries: dict[str, list[ReviewEntry]] = {}

    def add(
        self,
        uri: str,
        text: str,
        target: Span,
        target_text: str,
        findings: tuple[Finding, ...],
        tier: str,
        model: str | None,
    ) -> None:
        """Record a review of the target at `target` in `text` (replacing overlapping ones)."""
        index = LineIndex(text)
        start, end = index.span_offsets(target)
        placed = [
            (a - start, b - start, f) for f in findings for a, b in [index.span_offsets(f.span)]
        ]
        kept = [
            e
            for e in self._entries.get(uri, [])
            if e.start + len(e.target_text) <= start or e.start >= end
        ]
        kept.append(ReviewEntry(target_text, start, placed, tier, model))
        self._entries[uri] = kept

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
        index = LineIndex(text, encoding)
        out = []
        for entry, _a, _b, finding in self._located(uri, index):
            out.append(diagnostic(index, finding, tier=entry.tier, model=entry.model))
        return out

    def _located(self, uri: str, index: LineIndex) -> list[tuple[ReviewEntry, int, int, Finding]]:
        out = []
        for entry in self._entries.get(uri, []):
            for a, b, finding in entry.findings:
                span = index.span_of(entry.start + a, entry.start + b)
                out.append(
                    (entry, entry.start + a, entry.start + b, attrs.evolve(finding, span=span))
                )
        return out

    def fixes(
        self,
        uri: str,
        text: str,
        version: int | None,
        lines: tuple[int, int],
        server: TierwiseServer,
    ) -> list[types.CodeAction]:
        """Quick fixes for findings with a replacement on the requested lines."""
        index = LineIndex(text, server.encoding)
        actions = []
        for entry, _a, _b, finding in self._located(uri, index):
            if (
                finding.replacement is None
                or finding.span.end_line < lines[0]
                or finding.span.start_line > lines[1]
            ):
                continue
            diag = diagnostic(index, finding, tier=entry.tier, model=entry.model)
            edit = types.TextEdit(range=diag.range, new_text=finding.replacement)
            actions.append(
                types.CodeAction(
                    title=f"Fix: {_short(finding.message)}",
                    kind=KIND_QUICKFIX,
                    diagnostics=[diag],
                    edit=workspace_edit(
                        [(uri, version, [edit])],
                        document_changes=server.client_supports(
                            "workspace.workspace_edit.document_changes"
                        ),
                    ),
                )
            )
        return actions


def relocate_text(needle: str, text: str) -> int | None:
    """The offset of the only occurrence of `needle` in `text`, else None."""
    first = text.find(needle)
    if first < 0 or text.find(needle, first + 1) >= 0:
        return None
    return first


def _short(message: str, limit: int = 70) -> str:
    line = message.strip().split("\n", 1)[0]
    return line if len(line) <= limit else line[: limit - 1] + "…"


def publish(server: TierwiseServer, uri: str) -> None:
    """Publish the document's tierwise diagnostics (an empty list clears them)."""
    doc = current_document(server, uri)
    text = doc.source if doc is not None else ""
    diags = server.reviews.diagnostics(uri, text, server.encoding) if doc is not None else []
    version = doc.version if doc is not None else None
    server.text_document_publish_diagnostics(
        types.PublishDiagnosticsParams(uri=uri, diagnostics=diags, version=version)
    )


def review_to_diagnostics(
    server: TierwiseServer,
    snap: Snapshot,
    task: Task,
    findings: tuple[Finding, ...],
    tier: str,
    model: str | None,
) -> dict[str, Any]:
    """Pin the findings to the current document and publish them."""
    target = task.context.target
    placed = place(server, snap, target.span, target.span)
    if placed is None:
        message = (
            f"{Path(snap.path).name} changed during the review of {target.name}: "
            "findings not shown; run it again"
        )
        server.tell(message)
        return {"published": False, "reason": message}
    span, doc = placed
    shift = (
        LineIndex(doc.source).span_offsets(span)[0]
        - LineIndex(snap.text).span_offsets(target.span)[0]
    )
    index = LineIndex(snap.text)
    moved = []
    for f in findings:
        a, b = index.span_offsets(f.span)
        moved.append(attrs.evolve(f, span=LineIndex(doc.source).span_of(a + shift, b + shift)))
    server.reviews.add(snap.uri, doc.source, span, target.text, tuple(moved), tier, model)
    publish(server, snap.uri)
    return {"published": True, "findings": len(findings)}


# -- markdown ---------------------------------------------------------------------------------


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()[:40] or "tierwise"


def write_markdown(directory: Path, action: str, result: MarkdownResult) -> Path:
    """Write the document under the data dir (private to the user) and return its path."""
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    body = (
        result.markdown
        if result.markdown.lstrip().startswith("#")
        else f"# {result.title}\n\n{result.markdown}"
    )
    digest = hashlib.sha256(body.encode()).hexdigest()[:10]
    path = directory / f"{action}-{_slug(result.title)}-{digest}.md"
    path.write_text(body.rstrip() + "\n", encoding="utf-8")
    path.chmod(0o600)
    return path


async def show_markdown(
    server: TierwiseServer, action: str, result: MarkdownResult
) -> dict[str, Any]:
    """Show explain/design output as configured: a document, a message, or nothing."""
    from tierwise.config import data_dir

    display = server.engine.config.server.display
    if display == "none":
        return {"shown": "none"}
    if display == "document":
        path = write_markdown(data_dir() / "docs", action, result)
        if server.client_supports("window.show_document.support"):
            shown = await server.window_show_document_async(
                types.ShowDocumentParams(
                    uri=from_fs_path(str(path)) or path.as_uri(), take_focus=True
                )
            )
            if shown.success:
                return {"shown": "document", "document": str(path)}
        logger.info("the client cannot show documents; sending %s as a message", path)
    server.window_show_message(
        types.ShowMessageParams(type=types.MessageType.Info, message=result.markdown)
    )
    return {"shown": "message"}


# -- rename -----------------------------------------------------------------------------------


def rename_position(
    server: TierwiseServer, snap: Snapshot, task: Task, result: RenameResult
) -> tuple[int, int, Any] | None:
    """Where the old name is now: (line, str column, document), or None if it moved away."""
    span = result.name_span or task.context.target.name_span
    if span is None:
        return None
    placed = place(server, snap, task.context.target.span, span)
    if placed is None:
        return None
    where, doc = placed
    index = LineIndex(doc.source)
    a, b = index.span_offsets(where)
    if doc.source[a:b] != result.old_name:
        return None
    return where.start_line, where.start_col, doc
