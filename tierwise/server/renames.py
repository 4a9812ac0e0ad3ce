"""A rename's new name: offered to the editor (its own picker, or a showMessageRequest for one
without), then applied: Python across the workspace with jedi, another language through the
editor's own rename. Every name is checked to be an identifier of the language first."""

from __future__ import annotations

import asyncio
import logging
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from tierwise.context.languages import language_for
from tierwise.core.code import Span
from tierwise.core.errors import UsageError
from tierwise.core.results import RenameResult
from tierwise.core.task import Action, Task
from tierwise.handlers.parsing import is_identifier, shown_name
from tierwise.server import results
from tierwise.server.convert import range_dict
from tierwise.server.results import record_edit, snapshot
from tierwise.server.state import Snapshot

if TYPE_CHECKING:
    from tierwise.engine import Outcome
    from tierwise.server.app import TierwiseServer

logger = logging.getLogger(__name__)


def offer_names(
    server: TierwiseServer,
    snap: Snapshot,
    task: Task,
    result: RenameResult,
    outcome: Outcome | None = None,
) -> dict[str, Any]:
    """Return the candidates; clients without their own picker get a showMessageRequest."""
    data: dict[str, Any] = {
        "old_name": result.old_name,
        "candidates": [{"name": c.name, "reason": c.reason} for c in result.candidates],
    }
    where = results.rename_position(server, snap, task, result)
    if where is not None:
        line, col, doc = where
        index = server.index(doc.source, server.encoding)
        name = index.to_range(Span(line, col, line, col + len(result.old_name)))
        data["position"] = {"line": name.start.line, "character": name.start.character}
        data["range"] = range_dict(name)
    if result.candidates and not _has_picker(server):
        server.spawn(pick_name(server, snap, task, result, outcome))
    return data


def _has_picker(server: TierwiseServer) -> bool:
    caps = getattr(server.protocol, "client_capabilities", None)
    experimental = getattr(caps, "experimental", None)
    picker = experimental.get("tierwise", {}) if isinstance(experimental, dict) else {}
    return isinstance(picker, dict) and bool(picker.get("pickName"))


async def pick_name(
    server: TierwiseServer,
    snap: Snapshot,
    task: Task,
    result: RenameResult,
    outcome: Outcome | None = None,
) -> None:
    """Ask for one of the names, then rename (Python: across files with jedi)."""
    reasons = "; ".join(f"{c.name}: {c.reason}" for c in result.candidates if c.reason)
    try:
        choice = await server.window_show_message_request_async(
            types.ShowMessageRequestParams(
                type=types.MessageType.Info,
                message=f"tierwise: rename {result.old_name} to…"
                + (f" ({reasons})" if reasons else ""),
                actions=[types.MessageActionItem(title=c.name) for c in result.candidates],
            )
        )
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # an error answer is a "no" too: never a traceback
        logger.info("window/showMessageRequest was answered with an error: %s", exc)
        choice = None
    if choice is None:
        record_edit(server, outcome, "declined", "the names were dismissed")
        return
    where = results.rename_position(server, snap, task, result)
    if where is None:
        message = f"{Path(snap.path).name} changed and {result.old_name} moved: run rename again"
        record_edit(server, outcome, "apply_failed", message)
        server.tell(message)
        return
    line, col, doc = where
    done = await rename_symbol(
        server, doc.uri, line, col, result.old_name, choice.title, task.context.target.language
    )
    record_edit(server, outcome, done.pop("status", None), done.get("reason"))
    if not done.get("applied") and done.get("reason"):
        server.tell(str(done["reason"]))


async def rename_symbol(
    server: TierwiseServer,
    uri: str,
    line: int,
    col: int,
    old_name: str,
    new_name: str,
    language: str,
) -> dict[str, Any]:
    """Rename the symbol at (line, str column): Python across files, else the client's rename."""
    check_name(new_name, language)
    if language != "python":
        message = (
            f"rename {old_name} to {new_name} with your editor's rename: "
            f"its {language} language server knows every reference"
        )
        server.tell(message, types.MessageType.Info)
        return {"applied": False, "name": new_name, "reason": message}
    from tierwise.server.rename import jedi_rename, line_edits

    doc = server.workspace.text_documents[uri]
    source, version = doc.source, doc.version
    root = server.workspace_root()
    open_docs = {Path(d.path): d for d in server.workspace.text_documents.values()}
    before = {p: (d.version, d.source) for p, d in open_docs.items()}
    changes = await asyncio.to_thread(
        jedi_rename,
        source=source,
        path=doc.path,
        root=str(root) if root else None,
        line=line,
        col=col,
        new_name=new_name,
        open_texts={p: d.source for p, d in open_docs.items()},
    )
    now = server.workspace.text_documents.get(uri)
    if now is None or now.version != version or now.source != source:
        return {
            "applied": False,
            "reason": f"{Path(doc.path).name} changed during the rename: run it again",
            "status": "apply_failed",
        }
    files = []
    for path, (old, new) in changes.items():
        opened = open_docs.get(path)
        if opened is not None and (opened.version, opened.source) != before[path]:
            return {
                "applied": False,
                "reason": f"{path.name} changed during the rename: run it again",
                "status": "apply_failed",
            }
        version = opened.version if opened is not None else None
        file_uri = opened.uri if opened is not None else path.as_uri()
        files.append((file_uri, version, line_edits(old, new, server.encoding)))
    out = await results.apply_edits(server, f"tierwise: rename {old_name} → {new_name}", files)
    out["files"] = len(files)
    return out


def check_name(name: str, language: str) -> None:
    """Refuse a new name that is not an identifier of the language (UsageError: InvalidParams).

    Clients send the name (a picker, a message-request answer): "", "class", "1abc", "a b", a
    lone surrogate or a 10,000-character string would otherwise be written into the code.
    """
    problem = is_identifier(name, language)
    if problem is not None:
        raise UsageError(f"name: {problem}; expected a new {language} identifier")


async def apply_rename(
    server: TierwiseServer, uri: str, position: types.Position, new_name: str
) -> dict[str, Any]:
    """tierwise.applyRename: rename the identifier at a client position to a valid new name."""
    snap = snapshot(server, uri)
    language = language_for(snap.path)
    check_name(new_name, language)
    line, col = server.index(snap.text, server.encoding).from_client(position)
    row = server.index(snap.text).lines[line]
    word = next((m for m in re.finditer(r"\w+", row) if m.start() <= col <= m.end()), None)
    if word is None:
        raise UsageError(f"no identifier at line {line}, character {position.character}")
    if word.group() == new_name:
        raise UsageError(f"name: {shown_name(new_name)} is the current name")
    done = await rename_symbol(server, uri, line, word.start(), word.group(), new_name, language)
    last = server.last_runs.get(uri)
    if last is not None and last.task.action is Action.RENAME:  # the picked name of that run
        record_edit(server, last.outcome, done.get("status"), done.get("reason"))
    done.pop("status", None)
    return done
