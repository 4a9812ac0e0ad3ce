"""What the editor does with an answer reaches the ledger, through `tierwise serve` over stdio:
every workspace/applyEdit result (applied, declined) and the review quick fix the user chose
(the fix's command, run by the editor after its edit), and `tierwise.stats` shows the tune and
verification figures `tierwise stats` shows (docs/routing.md, "Learning from use")."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from tests.e2e.conftest import ledger_rows, workspace_editor
from tests.e2e.lsp_helpers import (
    EditorClient,
    apply_edits,
    edits_by_uri,
    server_env,
    wait_for,
)
from tests.e2e.test_lsp_actions import code_actions, position_json
from tests.fakes.wire import FakeProvider

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=["vscode", "neovim"])
async def editor(
    request: pytest.FixtureRequest, fake: FakeProvider, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[EditorClient]:
    base = tmp_path_factory.mktemp(f"tune-{request.param}")
    async with workspace_editor(fake, base, request.param) as client:
        yield client


async def review(editor: EditorClient, uri: str, needle: str) -> tuple[dict[str, Any], Any]:
    """Review the function at `needle`; the result and its first published diagnostic."""
    here = editor.position(uri, needle)
    result = await editor.command(
        "tierwise.run",
        {"action": "review", "uri": uri, "position": position_json(here), "refresh": True},
    )
    diagnostics = await wait_for(lambda: editor.diagnostics.get(uri), what="diagnostics")
    return result, diagnostics[0]


async def test_a_chosen_quick_fix_is_recorded_on_its_review(editor: EditorClient) -> None:
    uri = editor.open(editor.root / "shop.py")  # type: ignore[operator]
    text = editor.texts[uri]
    _result, diag = await review(editor, uri, "cleaned = name.strip()")
    (request_id, offered) = ledger_rows(
        editor.home, "SELECT id, fixes_offered FROM requests WHERE action = 'review'"
    )[-1]
    assert offered == 1  # the fake's review has one finding with a replacement

    (fix,) = await code_actions(editor, uri, diag.range.start, ["quickfix"])
    # The edit stays on the action (previewed and applied by the editor as ever); the command
    # the editor runs after it tells the server which fix was chosen.
    assert fix["command"]["command"] == "tierwise.fixChosen"
    assert fix["command"]["arguments"] == [{"uri": uri, "request": request_id, "fix": 0}]
    edit = editor.protocol._converter.structure(fix["edit"], types.WorkspaceEdit)
    editor.replace_text(uri, apply_edits(text, edits_by_uri(edit)[uri][1], editor.encoding))
    done = await editor.command(fix["command"]["command"], *fix["command"]["arguments"])
    assert done == {"recorded": True, "status": "applied"}
    # Run twice (a client retrying) it is one fix chosen, not two.
    await editor.command(fix["command"]["command"], *fix["command"]["arguments"])
    events = ledger_rows(
        editor.home, "SELECT kind, status, detail FROM edits WHERE request_id = ?", request_id
    )
    assert events[0] == ("fix", "applied", "finding 0")
    # The fix accepted the review: its next ask starts at the routed tier (engine/asks.py).
    assert ledger_rows(editor.home, "SELECT applied FROM requests WHERE id = ?", request_id) == [
        (1,)
    ]
    stats = await editor.command("tierwise.stats")
    review_cells = [c for c in stats["tune"]["cells"] if c["action"] == "review"]
    assert sum(c["fixes_chosen"] for c in review_cells) == 1
    assert sum(c["fixes_offered"] for c in review_cells) == 1


async def test_a_fix_whose_edit_the_editor_did_not_apply_is_not_counted_as_applied(
    editor: EditorClient,
) -> None:
    uri = editor.open(editor.root / "helpers.py")  # type: ignore[operator]
    _result, diag = await review(editor, uri, "doubled = x * 2")
    (fix,) = await code_actions(editor, uri, diag.range.start, ["quickfix"])
    # Neovim runs the command even when it refused a stale edit: the text never arrives.
    done = await editor.command(fix["command"]["command"], *fix["command"]["arguments"])
    assert done["status"] == "pending"  # eglot's didChange comes after the command's answer
    request_id = fix["command"]["arguments"][0]["request"]
    sql = "SELECT kind, status FROM edits WHERE request_id = ?"
    await wait_for(lambda: ledger_rows(editor.home, sql, request_id), what="the fix settled")
    assert ledger_rows(editor.home, sql, request_id) == [("fix", "apply_failed")]
    assert ledger_rows(editor.home, "SELECT applied FROM requests WHERE id = ?", request_id) == [
        (None,)
    ]
    with pytest.raises(JsonRpcException, match="no quick fix 7 of review"):
        await editor.command("tierwise.fixChosen", {"uri": uri, "request": request_id, "fix": 7})
    with pytest.raises(JsonRpcException, match="fix"):
        await editor.command("tierwise.fixChosen", {"uri": uri, "request": request_id})


async def test_a_fix_whose_text_arrives_after_the_command_is_applied(
    editor: EditorClient,
) -> None:
    uri = editor.open(editor.root / "main.py")  # type: ignore[operator]
    text = editor.texts[uri]
    _result, diag = await review(editor, uri, "return calc(4)")
    (fix,) = await code_actions(editor, uri, diag.range.start, ["quickfix"])
    done = await editor.command(fix["command"]["command"], *fix["command"]["arguments"])
    assert done["status"] == "pending"
    # As eglot does: the edit's didChange after the command's answer.
    edit = editor.protocol._converter.structure(fix["edit"], types.WorkspaceEdit)
    editor.replace_text(uri, apply_edits(text, edits_by_uri(edit)[uri][1], editor.encoding))
    request_id = fix["command"]["arguments"][0]["request"]
    sql = "SELECT kind, status FROM edits WHERE request_id = ?"
    await wait_for(lambda: ledger_rows(editor.home, sql, request_id), what="the fix settled")
    assert ledger_rows(editor.home, sql, request_id) == [("fix", "applied")]


async def test_every_apply_edit_result_is_an_edit_event(editor: EditorClient) -> None:
    uri = editor.open(editor.root / "shop.py")  # type: ignore[operator]
    here = editor.position(uri, "parts = line.split")
    args = {"action": "docstring", "uri": uri, "position": position_json(here), "refresh": True}
    editor.answer_edit = lambda _p: types.ApplyWorkspaceEditResult(applied=False)
    try:
        declined = await editor.command("tierwise.run", args)
    finally:
        editor.answer_edit = None
    assert declined["applied"] is False
    applied = await editor.command("tierwise.run", args)
    assert applied["applied"] is True
    rows = ledger_rows(
        editor.home,
        "SELECT r.outcome, r.applied, e.kind, e.status FROM requests r JOIN edits e"
        " ON e.request_id = r.id WHERE r.action = 'docstring' ORDER BY e.id",
    )
    assert rows[-2:] == [("declined", 0, "edit", "declined"), ("ok", 1, "edit", "applied")]


async def test_stats_carries_the_tune_and_check_figures_the_cli_prints(
    editor: EditorClient,
) -> None:
    stats = await editor.command("tierwise.stats")
    # Existing fields kept, new ones added.
    assert {"this_session", "all_time", "budget", "sticky", "server"} <= set(stats)
    every = stats["all_time"]
    assert {"verified", "checks_failed", "escalations"} <= set(every)
    checked = ledger_rows(
        editor.home,
        "SELECT COALESCE(SUM(verified = 1), 0), COALESCE(SUM(verified = 0), 0) FROM requests",
    )[0]
    assert (every["verified"], every["checks_failed"]) == checked and checked[0] > 0
    tune = stats["tune"]
    assert tune["window_days"] == 28 and tune["min_sample"] == 20
    assert tune["cells"] and all(c["verdict"] == "thin" for c in tune["cells"])
    assert all("not enough data (n=" in c["text"] for c in tune["cells"])
    cli = subprocess.run(
        [sys.executable, "-m", "tierwise", "stats", "--json"],
        env=server_env(editor.home, editor.home / "config.toml"),
        cwd=editor.root,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert json.loads(cli.stdout)["tune"]["cells"] == tune["cells"]
