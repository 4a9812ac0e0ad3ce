"""An edit the editor declines, or a workspace/applyEdit that fails, is `applied: false` with
the reason, never a traceback; the ledger row says what became of it, and escalation reads it
(a declined answer counts as asked again, an applied one starts over)."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from lsprotocol import types
from pytest_lsp.client import captured_exception_key

from tests.e2e.conftest import workspace_editor
from tests.e2e.lsp_helpers import EditorClient, raw_request, wait_for
from tests.fakes.wire import FakeProvider

pytestmark = pytest.mark.asyncio(loop_scope="module")

Answer = Callable[[types.ApplyWorkspaceEditParams], types.ApplyWorkspaceEditResult | None]


def declined(reason: str | None) -> Answer:
    return lambda _p: types.ApplyWorkspaceEditResult(applied=False, failure_reason=reason)


def refuses(_params: types.ApplyWorkspaceEditParams) -> None:
    raise RuntimeError("User canceled server edit")  # eglot's answer to "Proceed?" → no


def forget_client_error(editor: EditorClient) -> None:
    """pytest-lsp fails a test whose client handler raised; here raising is the point (pygls
    turns it into the error answer an editor sends)."""
    item = editor._pytest_item
    if item is not None:
        item.stash[captured_exception_key] = None


ANSWERS: dict[str, tuple[Answer, str]] = {
    "applied: false": (declined(None), "the editor declined the edit"),
    "applied: false with a reason": (
        declined("the user said no"),
        "the editor declined the edit: the user said no",
    ),
    "an error answer": (refuses, "the editor declined the edit ("),
}


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def editor(
    fake: FakeProvider, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[EditorClient]:
    async with workspace_editor(fake, tmp_path_factory.mktemp("edits"), "vscode") as client:
        yield client


def last_row(editor: EditorClient, action: str) -> dict[str, Any]:
    con = sqlite3.connect(Path(editor.home) / "data" / "ledger.sqlite3")
    con.row_factory = sqlite3.Row
    try:
        row = con.execute(
            "SELECT outcome, applied, error FROM requests WHERE action = ? ORDER BY id DESC",
            (action,),
        ).fetchone()
        return dict(row)
    finally:
        con.close()


def where(editor: EditorClient, uri: str, needle: str) -> dict[str, int]:
    position = editor.position(uri, needle)
    return {"line": position.line, "character": position.character}


@pytest.mark.parametrize("answer", list(ANSWERS))
async def test_a_declined_docstring_is_reported_and_recorded(
    editor: EditorClient, answer: str
) -> None:
    behaviour, reason = ANSWERS[answer]
    uri = editor.open(editor.root / "shop.py")  # type: ignore[operator]
    before = editor.texts[uri]
    editor.answer_edit = behaviour
    try:
        args = {"action": "docstring", "uri": uri, "position": where(editor, uri, "total = a + b")}
        result = await editor.command("tierwise.run", {**args, "tier": "budget", "refresh": True})
    finally:
        editor.answer_edit = None
        forget_client_error(editor)
    assert result["applied"] is False and result["reason"].startswith(reason), result
    if behaviour is refuses:
        assert "User canceled server edit" in result["reason"]
    assert editor.texts[uri] == before
    row = last_row(editor, "docstring")
    assert row["outcome"] == "declined" and row["applied"] == 0
    assert row["error"].startswith(reason)
    # A declined answer was seen and refused: asking again moves up.
    route = await editor.command("tierwise.route", args)
    assert any("asked again within the window" in r for r in route["reasons"]), route


async def test_an_applied_docstring_starts_escalation_over(editor: EditorClient) -> None:
    uri = editor.open(editor.root / "shop.py")  # type: ignore[operator]
    args = {"action": "docstring", "uri": uri, "position": where(editor, uri, "cleaned = name")}
    first = await editor.command("tierwise.run", args)
    assert first["applied"] is True
    assert last_row(editor, "docstring") == {"outcome": "ok", "applied": 1, "error": None}
    route = await editor.command(
        "tierwise.route", {**args, "position": where(editor, uri, "cleaned = name")}
    )
    assert not any("asked again" in r for r in route["reasons"]), route["reasons"]


@pytest.mark.parametrize("answer", list(ANSWERS))
async def test_a_declined_rename_is_reported_and_recorded(
    editor: EditorClient, answer: str
) -> None:
    behaviour, reason = ANSWERS[answer]
    uri = editor.open(editor.root / "helpers.py")  # type: ignore[operator]
    before = editor.texts[uri]
    shown = len(editor.messages)
    editor.answer_edit = behaviour
    try:
        result = await editor.command(
            "tierwise.run",
            {"action": "rename", "uri": uri, "position": where(editor, uri, "doubled = x")},
        )
        assert result["candidates"]
        # The picked name is renamed in the background; the editor says no.
        told = await wait_for(
            lambda: [m for m in editor.messages[shown:] if "declined" in m.message],
            what="a message saying the rename was declined",
        )
    finally:
        editor.answer_edit = None
        forget_client_error(editor)
    assert reason in told[0].message
    assert editor.texts[uri] == before
    row = last_row(editor, "rename")
    assert row["outcome"] == "declined" and row["applied"] == 0


async def test_dismissing_the_rename_names_is_a_decline_not_an_error(
    editor: EditorClient,
) -> None:
    uri = editor.open(editor.root / "helpers.py")  # type: ignore[operator]
    editor.choose = lambda _p: None
    try:
        await editor.command(
            "tierwise.run",
            {"action": "rename", "uri": uri, "position": where(editor, uri, "return 100")},
        )
        row = await wait_for(
            lambda: (r := last_row(editor, "rename"))["outcome"] == "declined" and r,
            what="the rename row marked declined",
        )
    finally:
        editor.choose = lambda p: p.actions[0].title if p.actions else None
    assert row["error"] == "the names were dismissed"


DOCUMENTED = '''\
def both(a, b):
    """Add a to b."""
    return a + b


def half(a, b):
    """Halve a."""
    return a / 2 + b * 0
'''


async def docstring_entry(editor: EditorClient, uri: str, needle: str) -> dict[str, Any]:
    here = where(editor, uri, needle)
    params = {
        "textDocument": {"uri": uri},
        "range": {"start": here, "end": here},
        "context": {"diagnostics": [], "only": ["refactor.rewrite.tierwise.docstring"]},
    }
    items = await raw_request(editor, f"d-{id(params)}", "textDocument/codeAction", params)
    (item,) = items
    return dict(item)


async def test_an_existing_docstring_is_offered_as_an_update(editor: EditorClient) -> None:
    path = editor.root / "documented.py"  # type: ignore[operator]
    path.write_text(DOCUMENTED, encoding="utf-8")
    uri = editor.open(path)
    routed = await docstring_entry(editor, uri, "return a + b")
    assert routed["title"].startswith("Update docstring · budget · ~$"), routed
    await editor.command("tierwise.setTier", {"tier": "static"})
    try:
        nothing = await docstring_entry(editor, uri, "return a + b")
        something = await docstring_entry(editor, uri, "return a / 2")
    finally:
        await editor.command("tierwise.setTier", {"tier": "auto"})
    assert nothing["title"] == "Update docstring · static · $0"
    assert "nothing to add" in nothing["disabled"]["reason"]
    assert "--tier" not in nothing["disabled"]["reason"]  # shown in the editor's menu
    assert something["title"] == "Update docstring · static · $0" and "disabled" not in something
    run = await editor.command(
        "tierwise.run",
        {
            "action": "docstring",
            "uri": uri,
            "position": where(editor, uri, "return a / 2"),
            "tier": "static",
        },
    )
    assert run["applied"] is True and run["result"]["existing"] is True
    # "a" is in the summary, b is not: the new section lists both.
    entries = "        a: TODO - describe.\n        b: TODO - describe.\n"
    assert f'"""Halve a.\n\n    Args:\n{entries}    """' in editor.texts[uri]


async def test_a_static_review_with_no_findings_says_so(editor: EditorClient) -> None:
    path = editor.root / "clean.py"  # type: ignore[operator]
    path.write_text("def add(a, b):\n    return a + b\n", encoding="utf-8")
    uri = editor.open(path)
    shown = len(editor.messages)
    result = await editor.command(
        "tierwise.run",
        {
            "action": "review",
            "uri": uri,
            "position": where(editor, uri, "return a"),
            "tier": "static",
        },
    )
    assert result["findings"] == 0
    told = await wait_for(
        lambda: [m for m in editor.messages[shown:] if "no findings" in m.message],
        what="a message saying the review found nothing",
    )
    assert told[0].message == "tierwise: no findings in add (ruff, static)"
    assert told[0].type == types.MessageType.Info
