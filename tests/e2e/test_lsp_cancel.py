"""Cancellation (both ways) and documents edited while a model is still answering."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from lsprotocol import types
from pygls.exceptions import JsonRpcRequestCancelled

from tests.e2e.conftest import SHOP, workspace_editor
from tests.e2e.lsp_helpers import (
    CLIENTS,
    EditorClient,
    apply_edits,
    edits_by_uri,
    supports,
    wait_for,
)
from tests.fakes.wire import FakeProvider

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=list(CLIENTS))
async def editor(
    request: pytest.FixtureRequest, fake: FakeProvider, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[EditorClient]:
    """One server per client kind."""
    async with workspace_editor(fake, tmp_path_factory.mktemp(request.param), request.param) as c:
        yield c


def run_in_background(client: EditorClient, msg_id: str, arguments: dict[str, Any]) -> Future[Any]:
    """Send tierwise.run with a known request id, without waiting for the answer."""
    params = types.ExecuteCommandParams(command="tierwise.run", arguments=[arguments])
    return client.protocol.send_request(types.WORKSPACE_EXECUTE_COMMAND, params, msg_id=msg_id)


def ledger_outcomes(home: Path) -> list[str]:
    """Every ledger row's outcome, oldest first, read straight from the server's SQLite file."""
    path = home / "data" / "ledger.sqlite3"
    if not path.exists():
        return []
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as con:
        try:
            return [row[0] for row in con.execute("SELECT outcome FROM requests ORDER BY rowid")]
        except sqlite3.OperationalError:  # read while the server was still creating its tables
            return []


def docstring_args(client: EditorClient, uri: str, needle: str) -> dict[str, Any]:
    """A docstring run at `needle`, on budget, bypassing the cache."""
    here = client.position(uri, needle)
    return {
        "action": "docstring",
        "uri": uri,
        "tier": "budget",
        "refresh": True,
        "position": {"line": here.line, "character": here.character},
    }


async def assert_cancelled(
    client: EditorClient, fake: FakeProvider, future: Future[Any], closed_before: int, uri: str
) -> None:
    """The request failed as cancelled, the stream was closed, nothing was applied, and the
    ledger has a cancelled row."""
    applied_before = len(client.applied)
    with pytest.raises(JsonRpcRequestCancelled):
        await asyncio.wait_for(asyncio.wrap_future(future), timeout=10)
    await wait_for(lambda: fake.closed_early > closed_before, what="the provider stream to close")
    await wait_for(
        lambda: ledger_outcomes(client.home)[-1:] == ["cancelled"], what="a cancelled ledger row"
    )
    await asyncio.sleep(0.3)  # an edit sent by mistake would arrive within this time
    assert len(client.applied) == applied_before
    assert client.texts[uri] == SHOP
    stats = await client.command("tierwise.stats")
    assert stats["this_session"]["failed"] >= 1


async def test_cancel_request_stops_the_stream_and_applies_nothing(
    editor: EditorClient, fake: FakeProvider
) -> None:
    uri = editor.open(editor.root / "shop.py")  # type: ignore[operator]
    fake.script(("slow", 200, 0.05))
    requests, closed = fake.request_count, fake.closed_early
    future = run_in_background(
        editor, "cancel-by-request", docstring_args(editor, uri, "total = a + b")
    )
    await wait_for(lambda: fake.request_count > requests, what="the model request")
    editor.cancel_request(types.CancelParams(id="cancel-by-request"))
    await assert_cancelled(editor, fake, future, closed, uri)


async def test_progress_cancel_stops_the_stream_and_applies_nothing(
    editor: EditorClient, fake: FakeProvider
) -> None:
    if not supports(editor, "window.work_done_progress"):
        pytest.skip("this client has no work-done progress to cancel")
    uri = editor.open(editor.root / "shop.py")  # type: ignore[operator]
    fake.script(("slow", 200, 0.05))
    tokens, closed = set(editor.progress_reports), fake.closed_early
    requests = fake.request_count
    future = run_in_background(
        editor, "cancel-by-progress", docstring_args(editor, uri, "if qty <= 0")
    )

    def begun() -> Any:
        fresh = [
            t for t in editor.progress_reports if t not in tokens and editor.progress_reports[t]
        ]
        return fresh[0] if fresh else None

    token = await wait_for(begun, what="the progress to begin")
    begin = editor.progress_reports[token][0]
    assert isinstance(begin, types.WorkDoneProgressBegin) and begin.cancellable is True
    # This run's own request (the fake's last one may be the previous test's stream): cancelled
    # before it is sent, there would be no stream to close.
    await wait_for(
        lambda: fake.request_count > requests and fake.requests[-1].body.get("stream"),
        what="a stream",
    )
    editor.window_work_done_progress_cancel(types.WorkDoneProgressCancelParams(token=token))
    await assert_cancelled(editor, fake, future, closed, uri)
    end = editor.progress_reports[token][-1]
    assert isinstance(end, types.WorkDoneProgressEnd) and "cancelled" in (end.message or "")


async def test_an_edit_above_the_target_is_followed(
    editor: EditorClient, fake: FakeProvider
) -> None:
    uri = editor.open(editor.root / "shop.py")  # type: ignore[operator]
    fake.script(("slow", 8, 0.05))
    requests = fake.request_count
    future = run_in_background(
        editor, "reanchor", docstring_args(editor, uri, "parts = line.split")
    )
    await wait_for(lambda: fake.request_count > requests, what="the model request")
    edited = "# a line added while the model was writing\n" + SHOP
    editor.replace_text(uri, edited)
    result = await asyncio.wait_for(asyncio.wrap_future(future), timeout=15)
    if supports(editor, "workspace.apply_edit"):
        assert result["applied"] is True
        text = editor.texts[uri]
        version, _ = edits_by_uri(editor.applied[-1].edit)[uri]
        assert version in (None, 2)  # the version it was re-anchored onto, never version 1
    else:  # the client cannot apply edits: the re-anchored edit comes in the result
        assert result["applied"] is False
        edit = editor.protocol._converter.structure(result["edit"], types.WorkspaceEdit)
        text = apply_edits(edited, edits_by_uri(edit)[uri][1], editor.encoding)
    lines = text.split("\n")
    at = lines.index("def parse_order(line: str) -> dict:")
    assert lines[at + 1].startswith('    """tick0 tick1')
    end = lines.index('    parts = line.split(",")')
    assert "\n".join(lines[: at + 1] + lines[end:]) == edited  # nothing else changed


async def test_an_edit_inside_the_target_cancels_the_edit(
    editor: EditorClient, fake: FakeProvider
) -> None:
    uri = editor.open(editor.root / "shop.py")  # type: ignore[operator]
    fake.script(("slow", 8, 0.05))
    requests, applied = fake.request_count, len(editor.applied)
    future = run_in_background(editor, "stale", docstring_args(editor, uri, 'raise ValueError("n'))
    await wait_for(lambda: fake.request_count > requests, what="the model request")
    edited = SHOP.replace("total = a + b", "total = a - b")
    editor.replace_text(uri, edited)
    result = await asyncio.wait_for(asyncio.wrap_future(future), timeout=15)
    assert result["applied"] is False and "changed while the docstring" in result["reason"]
    assert len(editor.applied) == applied and editor.texts[uri] == edited
    assert any("changed while the docstring for add" in m.message for m in editor.messages)
