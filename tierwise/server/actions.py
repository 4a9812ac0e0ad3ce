"""textDocument/codeAction: every action at the cursor with its routed tier and cost.

Listing never calls a model, but routing means extracting the target once per action, which
is CPU work on large files; it runs in a worker thread so the server keeps answering, and the
last listings are remembered, because editors ask again for the same spot (on hover, after new
diagnostics) without any change.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from tierwise.core.errors import TierwiseError, UsageError
from tierwise.core.results import DocstringResult
from tierwise.core.task import Action, Task, display_name
from tierwise.handlers.registry import get_handler
from tierwise.server.convert import (
    KIND_QUICKFIX,
    action_kind,
    action_title,
    kind_allowed,
    range_dict,
)
from tierwise.server.state import Entry, Plan, Snapshot
from tierwise.server.validation import got

if TYPE_CHECKING:
    from tierwise.core.tiers import Tier
    from tierwise.engine import Engine
    from tierwise.server.app import TierwiseServer

RENAMEABLE = ("function", "method", "class")


def _applies(action: Action, task: Task) -> bool:
    target = task.context.target
    if action is Action.DOCSTRING:
        return target.doc_slot is not None
    if action is Action.RENAME:
        return target.kind in RENAMEABLE and target.name_span is not None
    return True


def plan(
    engine: Engine,
    snap: Snapshot,
    where: tuple[int, int, int | None, int | None],
    only: Sequence[str] | None,
    sticky: Tier | None,
) -> Plan:
    """Route each action that applies at the position (pure engine work: runs in a thread)."""
    line, col, end_line, end_col = where
    out: Plan = []
    for action in Action:
        if not any(kind_allowed(action_kind(action, k), only) for k in ("function", "module")):
            continue
        try:
            task = engine.build_task(
                action, snap.path, snap.text, line, col, end_line=end_line, end_col=end_col
            )
        except TierwiseError:
            continue
        kind = action_kind(action, task.context.target.kind)
        if kind_allowed(kind, only) and _applies(action, task):
            name = display_name(action, task.context.target)
            decision = engine.decide(task, sticky=sticky)
            out.append(Entry(action, kind, name, decision, _static_note(task)))
    return out


def _static_note(task: Task) -> str | None:
    """For a docstring that exists: why the static tier would add nothing (None: it would)."""
    slot = task.context.target.doc_slot
    if task.action is not Action.DOCSTRING or slot is None or slot.existing is None:
        return None
    try:
        result = get_handler(Action.DOCSTRING).run_static(task)
    except TierwiseError as exc:
        return str(exc)
    if isinstance(result, DocstringResult) and result.edit is None:
        return result.note or "the static tier has nothing to add"
    return None


async def code_actions(
    server: TierwiseServer, params: types.CodeActionParams
) -> list[types.CodeAction | types.Command]:
    """Quick fixes for tierwise findings, then every action with its tier and cost."""
    from tierwise.server.runner import INLINE_MAX_CHARS, locate

    engine = server.engine
    doc = server.workspace.text_documents.get(params.text_document.uri)
    if engine is None or doc is None or engine.is_excluded(doc.path):
        return []
    snap = Snapshot(doc.uri, doc.path, doc.version, doc.source)
    try:
        engine.check_size(snap.path, snap.text)
    except TierwiseError as exc:
        _say_once(server, snap.uri, str(exc))
        return []  # listing is passive: no error for every cursor move, one message instead
    if len(snap.text) < INLINE_MAX_CHARS:
        where = locate(server, snap, params.range, None)
    else:  # a big text's first line index takes 0.1-0.2 s (1 MB): not on the event loop
        where = await server.work("codeAction", locate, server, snap, params.range, None)
    only = _only(params.context.only)
    out: list[types.CodeAction | types.Command] = []
    literal = server.client_supports("text_document.code_action.code_action_literal_support")
    if literal and kind_allowed(KIND_QUICKFIX, only):  # a fix is an edit: CodeAction only
        last = where[2] if where[2] is not None else where[0]
        document_changes = server.client_supports("workspace.workspace_edit.document_changes")
        out += server.reviews.fixes(
            doc.uri, doc.source, doc.version, (where[0], last), server.encoding, document_changes
        )
    key = (snap.uri, snap.version, where, tuple(only or ()), id(engine.config), server.sticky)
    found = server.listings.get(key)
    if found is None:
        found = await server.work("codeAction", plan, engine, snap, where, only, server.sticky)
        server.listings.put(key, found)
    for entry in found:
        out += _entries(server, params, entry, literal, positional=where[2] is None)
    return out


def _say_once(server: TierwiseServer, uri: str, message: str) -> None:
    """Tell the user about a refused document once per document, not on every listing."""
    if uri not in server.refused_documents:
        server.refused_documents.add(uri)
        server.tell(message)


def _only(only: Sequence[Any] | None) -> Sequence[str] | None:
    """context.only, checked: lsprotocol lets any JSON scalar through in place of a kind."""
    for i, kind in enumerate(only or ()):
        if not isinstance(kind, str):
            raise UsageError(
                f"context.only[{i}]: expected a code action kind (a string), got {got(kind)}"
            )
    return only


def _entries(
    server: TierwiseServer,
    params: types.CodeActionParams,
    entry: Entry,
    literal: bool,
    *,
    positional: bool,
) -> list[types.CodeAction | types.Command]:
    """The routed entry, and with show_tier_variants one per other available tier.

    A static entry that would change nothing (a docstring that already names every parameter)
    is shown disabled with the reason where the client supports that, else left out.
    """
    action, decision = entry.action, entry.decision
    tiers = [decision.tier.label]
    if server.engine.config.server.show_tier_variants and not decision.refused:
        tiers += [t for t in decision.available if t != decision.tier.label]
    out: list[types.CodeAction | types.Command] = []
    for i, tier in enumerate(tiers):
        title = action_title(entry.name, tier, decision.estimates.get(tier, 0.0))
        arguments: dict[str, Any] = {"action": action.value, "uri": params.text_document.uri}
        if positional:
            start = params.range.start
            arguments["position"] = {"line": start.line, "character": start.character}
        else:
            arguments["range"] = range_dict(params.range)
        if i > 0:
            arguments["tier"] = tier
        command = types.Command(title=title, command="tierwise.run", arguments=[arguments])
        blocked = decision.refused if i == 0 else None
        if tier == "static" and entry.static_note:
            blocked = entry.static_note
        if not literal:
            if not blocked:
                out.append(command)
            continue
        disabled = None
        if blocked:
            if not server.client_supports("text_document.code_action.disabled_support"):
                continue
            disabled = types.CodeActionDisabled(reason=blocked)
        out.append(
            types.CodeAction(title=title, kind=entry.kind, command=command, disabled=disabled)
        )
    return out
