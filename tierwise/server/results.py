"""Outcomes as native LSP: safe versioned edits, published review diagnostics, markdown; the
open document a request reads (`snapshot`) and what became of its edit (`record_edit`).

An edit is only ever sent for the document version it was computed for, or for the current
version after the exact text it was computed from was found again, once, in the new text.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.uris import from_fs_path

from tierwise import report
from tierwise.core.code import Span
from tierwise.core.errors import UsageError, cut
from tierwise.core.records import evolve
from tierwise.core.results import DocstringResult, Finding, MarkdownResult, RenameResult
from tierwise.core.task import Task
from tierwise.edits import match_line_endings
from tierwise.server.convert import workspace_edit
from tierwise.server.state import Snapshot

if TYPE_CHECKING:
    from tierwise.engine import Outcome
    from tierwise.server.app import TierwiseServer

logger = logging.getLogger(__name__)


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
    old = server.index(snap.text)
    a0, a1 = old.span_offsets(anchor)
    s0, s1 = old.span_offsets(span)
    if doc.version == snap.version and doc.source == snap.text:
        return span, doc
    shift = relocate(snap.text, doc.source, min(a0, s0), max(a1, s1))
    if shift is None:
        return None
    return server.index(doc.source).span_of(s0 + shift, s1 + shift), doc


async def apply_edits(
    server: TierwiseServer, label: str, files: list[tuple[str, int | None, list[types.TextEdit]]]
) -> dict[str, Any]:
    """Send a WorkspaceEdit through workspace/applyEdit (versioned when the client takes it).

    The result says `applied` and, when not, the `reason`; `status` (applied, declined or
    apply_failed) is for the ledger. An editor that says no answers `applied: false`, with or
    without a `failureReason`, or (eglot, when its user answers no to "Proceed?") with an
    error: each is a declined edit, never a failed command.
    """
    edit = workspace_edit(
        files, document_changes=server.client_supports("workspace.workspace_edit.document_changes")
    )
    plain = server.converter.unstructure(edit)  # the edit as JSON, for the result
    if not server.client_supports("workspace.apply_edit"):
        return {
            "applied": False,
            "edit": plain,
            "reason": "the client does not support workspace/applyEdit",
            "status": "apply_failed",
        }
    server.hold_for_answer()
    try:
        response = await server.workspace_apply_edit_async(
            types.ApplyWorkspaceEditParams(edit=edit, label=label)
        )
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # an error answer, or a reply that is no ApplyWorkspaceEditResult
        said = str(getattr(exc, "message", "") or exc).strip()
        logger.info("workspace/applyEdit was answered with an error: %s", said)
        reason = "the editor declined the edit" + (f" ({said})" if said else "")
        return {"applied": False, "edit": plain, "reason": reason, "status": "declined"}
    if response.applied:
        return {"applied": True, "edit": plain, "status": "applied"}
    why = (response.failure_reason or "").strip()
    reason = "the editor declined the edit" + (f": {why}" if why else "")
    return {"applied": False, "edit": plain, "reason": reason, "status": "declined"}


async def apply_docstring(
    server: TierwiseServer, snap: Snapshot, task: Task, result: DocstringResult
) -> dict[str, Any]:
    """Insert or update the docstring, re-anchored when only other text changed."""
    if result.edit is None:  # the static tier had nothing to add to an existing docstring
        server.tell(result.note, types.MessageType.Info)
        return {"applied": False, "reason": result.note, "note": result.note}
    placed = place(server, snap, task.context.target.span, result.edit.span)
    if placed is None:
        message = (
            f"{Path(snap.path).name} changed while the docstring for {task.context.target.name} "
            "was being written: not applied; run it again"
        )
        server.tell(message)
        return {"applied": False, "reason": message, "status": "apply_failed"}
    span, doc = placed
    index = server.index(doc.source, server.encoding)
    new_text = match_line_endings(result.edit.new_text, doc.source)  # a CRLF file stays CRLF
    edit = types.TextEdit(range=index.to_range(span), new_text=new_text)
    verb = "update the docstring of" if result.existing else "docstring for"
    out = await apply_edits(
        server, f"tierwise: {verb} {task.context.target.name}", [(snap.uri, doc.version, [edit])]
    )
    if result.note:
        out["note"] = result.note
    return out


# -- review diagnostics ---------------------------------------------------------------------------


def publish(server: TierwiseServer, uri: str) -> None:
    """Publish the document's tierwise diagnostics (an empty list clears them)."""
    doc = current_document(server, uri)
    text = doc.source if doc is not None else ""
    diags = server.reviews.diagnostics(uri, text, server.encoding) if doc is not None else []
    version = doc.version if doc is not None else None
    if server.published.get(uri) == (version, diags):
        return  # the client shows exactly these already (a repeated cache hit, for one)
    server.published[uri] = (version, diags)
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
    ledger_id: int | None = None,
) -> dict[str, Any]:
    """Pin the findings to the current document and publish them (the quick fixes they offer
    are counted on the review's ledger row)."""
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
        server.index(doc.source).span_offsets(span)[0]
        - server.index(snap.text).span_offsets(target.span)[0]
    )
    index = server.index(snap.text)
    moved = []
    for f in findings:
        a, b = index.span_offsets(f.span)
        moved.append(evolve(f, span=server.index(doc.source).span_of(a + shift, b + shift)))
    fixes = server.reviews.add(
        snap.uri, doc.source, span, target.text, tuple(moved), tier, model, ledger_id
    )
    if fixes and ledger_id is not None and server.engine is not None:
        server.engine.stores.offer_fixes(ledger_id, fixes)
    publish(server, snap.uri)
    if not findings:  # an empty list of diagnostics shows nothing: say so
        who = report.review_source(tier, model)
        server.tell(f"no findings in {target.name} ({who})", types.MessageType.Info)
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
    if display == "document" and server.client_supports("window.show_document.support"):
        # File writes wait on the disk, which a busy machine makes slow: off the event loop.
        path = await asyncio.to_thread(write_markdown, data_dir() / "docs", action, result)
        shown = await server.window_show_document_async(
            types.ShowDocumentParams(uri=from_fs_path(str(path)) or path.as_uri(), take_focus=True)
        )
        if shown.success:
            return {"shown": "document", "document": str(path)}
        logger.debug("the client did not show %s; sending it as a message", path)
    # A client that cannot show documents gets a message, and no file is written that nothing
    # would ever open. (Debug, not info, for the log line: each record is redacted, which a
    # burst of fifty explains paid fifty times.)
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
    index = server.index(doc.source)
    a, b = index.span_offsets(where)
    if doc.source[a:b] != result.old_name:
        return None
    return where.start_line, where.start_col, doc


# eglot 1.9 runs a code action's command before it sends the didChange of the action's edit,
# and waits for the command's answer first (a synchronous request): the fix's text arrives
# after the answer. So a fix whose text is not there yet is settled in the background.
FIX_SETTLE_S = 5.0


async def fix_chosen(server: TierwiseServer, uri: str, request: int, fix: int) -> dict[str, Any]:
    """tierwise.fixChosen: the editor applied a review's quick fix and then ran this command.
    Recorded against the review's ledger row as applied once the document holds the fix's text
    (now, or within FIX_SETTLE_S: status "pending" until then), else as not applied (Neovim
    runs the command even when it refused a stale edit)."""
    from tierwise.core.errors import UsageError

    replacement = server.reviews.offered.get((request, fix))
    if replacement is None:
        raise UsageError(f"no quick fix {fix} of review {request} was offered in this session")
    if _holds(server, uri, replacement):
        _record_fix(server, request, fix, "applied")
        return {"recorded": True, "status": "applied"}
    server.spawn(_settle(server, uri, request, fix, replacement))
    return {"recorded": True, "status": "pending"}


async def _settle(server: TierwiseServer, uri: str, request: int, fix: int, text: str) -> None:
    """Wait for the fix's edit to reach the document, then record what became of it."""
    deadline = asyncio.get_running_loop().time() + FIX_SETTLE_S
    while not (applied := _holds(server, uri, text)):
        if asyncio.get_running_loop().time() >= deadline:
            break
        await asyncio.sleep(0.05)
    _record_fix(server, request, fix, "applied" if applied else "apply_failed")


def _record_fix(server: TierwiseServer, request: int, fix: int, status: str) -> None:
    if server.engine is not None:
        server.engine.stores.edit_event(request, "fix", status, f"finding {fix}")


def _holds(server: TierwiseServer, uri: str, replacement: str) -> bool:
    """Whether the open document holds a fix's replacement (a deletion always does)."""
    doc = current_document(server, uri)
    if doc is None:
        return False
    wanted = match_line_endings(replacement, doc.source)
    return not wanted.strip() or wanted in doc.source


def snapshot(server: TierwiseServer, uri: str) -> Snapshot:
    """The open document as it is now; UsageError when the client has not opened it."""
    if not uri:
        raise UsageError("uri is empty: pass the document's URI")
    doc = server.workspace.text_documents.get(uri)
    if doc is None:
        raise UsageError(
            f"{cut(uri)} is not open: tierwise works on documents the editor has opened"
        )
    return Snapshot(uri, doc.path, doc.version, doc.source)


def record_edit(
    server: TierwiseServer, outcome: Outcome | None, status: str | None, reason: Any
) -> None:
    """Tell the engine what became of an answer's edit (applied, declined, not applicable)."""
    if outcome is None or status is None or server.engine is None:
        return
    server.engine.edit_outcome(outcome, status, str(reason) if reason else None)
    server.listings.clear()  # an applied answer resets escalation: the listed tiers change
